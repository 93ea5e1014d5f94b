// Metrics and achievements: lists, creation, status changes and badge uploads.
import { html, useEffect, useState } from "./htm-preact-3.1.1.module.js";
import { gql } from "./api.js";
import { AchievementDetail } from "./detail.js";
import { BadgeField, Field, Problems, Screen, percent, useSubmit } from "./ui.js";

const METRICS = "{ metrics { key name unit } }";
const ACHIEVEMENTS = `{ achievements {
  ... on Achievement { key name description badgeUrl status trigger hidden completions rarity }
  ... on MetricAchievement { metric { key } metricValue }
  ... on StreakAchievement { streakLength }
  ... on CompositeAchievement { prerequisites { ... on Achievement { key } } }
} }`;
const STATUSES = ["INACTIVE", "ACTIVE", "LOCKED", "ARCHIVED"];

function useLoad(query, pick) {
  const [value, setValue] = useState(null);
  const [failure, setFailure] = useState(null);
  const reload = () =>
    gql(query)
      .then((data) => setValue(pick(data)))
      .catch((error) => setFailure(error.message));
  useEffect(() => {
    reload();
  }, []);
  return [value, reload, failure];
}

export function Metrics() {
  const [metrics, reload, failure] = useLoad(METRICS, (d) => d.metrics);
  const [form, setForm] = useState({ key: "", name: "", unit: "" });
  const { submit, busy, fields, general } = useSubmit(async () => {
    const input = { key: form.key, name: form.name, unit: form.unit || null };
    await gql("mutation($i: CreateMetricInput!) { createMetric(input: $i) { key } }", { i: input });
    setForm({ key: "", name: "", unit: "" });
    await reload();
  }, ["key", "name", "unit"]);
  const set = (name) => (event) => setForm({ ...form, [name]: event.target.value });
  return html`<${Screen} title="Metrics">
    <${Problems} messages=${failure ? [failure] : []} />
    <table>
      <thead><tr><th scope="col">Key</th><th scope="col">Name</th><th scope="col">Unit</th></tr></thead>
      <tbody>
        ${(metrics || []).map(
          (m) => html`<tr><td><code>${m.key}</code></td><td>${m.name}</td><td>${m.unit || ""}</td></tr>`,
        )}
      </tbody>
    </table>
    <form class="panel" onSubmit=${submit} aria-label="New metric">
      <h2>New metric</h2>
      <${Problems} messages=${general} />
      <${Field} label="Key" error=${fields.key} hint="Letters, digits, _ . : -">
        ${(id) => html`<input id=${id} name="key" value=${form.key} onInput=${set("key")} required />`}
      </${Field}>
      <${Field} label="Name" error=${fields.name}>
        ${(id) => html`<input id=${id} name="name" value=${form.name} onInput=${set("name")} required />`}
      </${Field}>
      <${Field} label="Unit" error=${fields.unit}>
        ${(id) => html`<input id=${id} name="unit" value=${form.unit} onInput=${set("unit")} />`}
      </${Field}>
      <button type="submit" disabled=${busy}>Create metric</button>
    </form>
  </${Screen}>`;
}

function triggerOf(a) {
  if (a.trigger === "METRIC") return `${a.metric.key} ≥ ${a.metricValue}`;
  if (a.trigger === "STREAK") return `streak of ${a.streakLength}`;
  if (a.trigger === "COMPOSITE") return `all of ${a.prerequisites.map((p) => p.key).join(", ")}`;
  return "API";
}

function StatusChoice({ achievement, onChanged }) {
  const [problem, setProblem] = useState(null);
  const change = async (event) => {
    try {
      await gql(
        "mutation($k: String!, $s: AchievementStatus!) { setAchievementStatus(key: $k, status: $s) { __typename } }",
        { k: achievement.key, s: event.target.value },
      );
      setProblem(null);
      await onChanged();
    } catch (error) {
      setProblem(error.message);
    }
  };
  return html`<label class="inline">
      <span class="visually-hidden">Status of ${achievement.key}</span>
      <select name=${`status-${achievement.key}`} value=${achievement.status} onChange=${change}>
        ${STATUSES.map((s) => html`<option value=${s}>${s}</option>`)}
      </select>
    </label>
    ${problem ? html`<p class="error" role="alert">${problem}</p>` : null}`;
}

export function Achievements() {
  const [achievements, reload, failure] = useLoad(ACHIEVEMENTS, (d) => d.achievements);
  const [metrics] = useLoad(METRICS, (d) => d.metrics);
  const [open, setOpen] = useState(null);
  const shown = (achievements || []).find((a) => a.key === open);
  return html`<${Screen} title="Achievements">
    <${Problems} messages=${failure ? [failure] : []} />
    <table>
      <thead><tr>
        <th scope="col">Badge</th><th scope="col">Key</th><th scope="col">Name</th>
        <th scope="col">Trigger</th><th scope="col">Status</th>
        <th scope="col">Completions</th><th scope="col">Rarity</th><th scope="col"></th>
      </tr></thead>
      <tbody>
        ${(achievements || []).map(
          (a) => html`<tr data-key=${a.key}>
            <td>${a.badgeUrl ? html`<img class="thumb" src=${a.badgeUrl} alt="" />` : null}</td>
            <td><code>${a.key}</code>${a.hidden ? html` <span class="tag">hidden</span>` : null}</td>
            <td>${a.name}</td>
            <td>${triggerOf(a)}</td>
            <td><${StatusChoice} achievement=${a} onChanged=${reload} /></td>
            <td class="number">${a.completions}</td>
            <td class="number">${percent(a.rarity)}</td>
            <td><button type="button" onClick=${() => setOpen(a.key)}
              aria-label=${`Details of ${a.key}`}>Details</button></td>
          </tr>`,
        )}
      </tbody>
    </table>
    ${shown ? html`<${AchievementDetail} key=${shown.key} achievement=${shown} onChanged=${reload} />` : null}
    <${NewAchievement} metrics=${metrics || []} achievements=${achievements || []} onCreated=${reload} />
  </${Screen}>`;
}

const EMPTY = {
  key: "", name: "", description: "", kind: "metric", metricKey: "", value: "", length: "",
  prerequisites: [], hidden: false, badgeUrl: "",
};
const FIELDS = [
  "key", "name", "description", "badgeUrl", "trigger.metric.value", "trigger.metric.metricKey",
  "trigger.streak", "trigger.composite", "userAttributes",
];

function trigger(form) {
  if (form.kind === "metric") return { metric: { metricKey: form.metricKey, value: Number(form.value) } };
  if (form.kind === "streak") return { streak: { length: Number(form.length) } };
  if (form.kind === "composite") return { composite: { prerequisiteKeys: form.prerequisites } };
  return { api: true };
}

function NewAchievement({ metrics, achievements, onCreated }) {
  const [form, setForm] = useState(EMPTY);
  const { submit, busy, fields, general } = useSubmit(async () => {
    const input = {
      key: form.key, name: form.name, description: form.description || null,
      badgeUrl: form.badgeUrl || null, hidden: form.hidden, trigger: trigger(form),
    };
    await gql("mutation($i: CreateAchievementInput!) { createAchievement(input: $i) { __typename } }", { i: input });
    setForm({ ...EMPTY, metricKey: form.metricKey });
    await onCreated();
  }, FIELDS);
  const set = (name) => (event) => setForm({ ...form, [name]: event.target.value });
  const choose = (key) => (event) => {
    const chosen = event.target.checked
      ? [...form.prerequisites, key]
      : form.prerequisites.filter((k) => k !== key);
    setForm({ ...form, prerequisites: chosen });
  };
  return html`<form class="panel" onSubmit=${submit} aria-label="New achievement">
    <h2>New achievement</h2>
    <${Problems} messages=${general} />
    <${Field} label="Key" error=${fields.key}>
      ${(id) => html`<input id=${id} name="key" value=${form.key} onInput=${set("key")} required />`}
    </${Field}>
    <${Field} label="Name" error=${fields.name}>
      ${(id) => html`<input id=${id} name="name" value=${form.name} onInput=${set("name")} required />`}
    </${Field}>
    <${Field} label="Description" error=${fields.description}>
      ${(id) => html`<textarea id=${id} name="description" value=${form.description} onInput=${set("description")} />`}
    </${Field}>
    <${Field} label="Trigger">
      ${(id) => html`<select id=${id} name="kind" value=${form.kind} onChange=${set("kind")}>
        <option value="metric">Metric threshold</option>
        <option value="streak">Streak length</option>
        <option value="api">API call</option>
        <option value="composite">Other achievements</option>
      </select>`}
    </${Field}>
    ${form.kind === "metric" && html`
      <${Field} label="Metric" error=${fields["trigger.metric.metricKey"]}>
        ${(id) => html`<select id=${id} name="metricKey" value=${form.metricKey} onChange=${set("metricKey")} required>
          <option value="">Choose a metric</option>
          ${metrics.map((m) => html`<option value=${m.key}>${m.name} (${m.key})</option>`)}
        </select>`}
      </${Field}>
      <${Field} label="Threshold" error=${fields["trigger.metric.value"]}>
        ${(id) => html`<input id=${id} name="value" type="number" step="any" value=${form.value} onInput=${set("value")} required />`}
      </${Field}>`}
    ${form.kind === "streak" && html`
      <${Field} label="Length" error=${fields["trigger.streak"]}>
        ${(id) => html`<input id=${id} name="length" type="number" value=${form.length} onInput=${set("length")} required />`}
      </${Field}>`}
    ${form.kind === "composite" && html`
      <fieldset class=${fields["trigger.composite"] ? "invalid" : ""}>
        <legend>Prerequisites</legend>
        ${achievements.map((a) => html`<label class="check">
          <input type="checkbox" checked=${form.prerequisites.includes(a.key)} onChange=${choose(a.key)} />
          ${a.name} (${a.key})</label>`)}
        ${fields["trigger.composite"] ? html`<p class="error" role="alert">${fields["trigger.composite"]}</p>` : null}
      </fieldset>`}
    <${BadgeField} url=${form.badgeUrl} error=${fields.badgeUrl}
      onUploaded=${(badgeUrl) => setForm({ ...form, badgeUrl })} />
    <label class="check"><input type="checkbox" name="hidden" checked=${form.hidden}
      onChange=${(e) => setForm({ ...form, hidden: e.target.checked })} /> Hidden until earned</label>
    <button type="submit" disabled=${busy}>Create achievement</button>
  </form>`;
}
