// Points systems: their triggers (with activation), their levels and how many users hold each.
import { html, useEffect, useState } from "./htm-preact-3.1.1.module.js";
import { gql } from "./api.js";
import { Field, Problems, Screen, useSubmit } from "./ui.js";

// One query per system: a list of systems with their triggers would pass the cost limit.
const CATALOGUE = "{ metrics { key name } achievements { ... on Achievement { key name } } pointsSystems { key } }";
const SYSTEM = `query($k: String!) { pointsSystem(key: $k) {
  key name description maxPoints
  levels { key name points }
  triggers(status: [ACTIVE, INACTIVE]) {
    ... on PointsTrigger { key type points status }
    ... on MetricPointsTrigger { metric { key } metricThreshold }
    ... on AchievementPointsTrigger { achievement { ... on Achievement { key } } }
    ... on StreakPointsTrigger { streakLength everyMultiple }
    ... on TimePointsTrigger { timeUnit timeInterval }
  }
  levelSummary { level { key } users }
} }`;
const TRIGGER_TYPES = [
  ["metric", "Metric"],
  ["achievement", "Achievement"],
  ["userCreation", "User creation"],
];

function ruleOf(t) {
  if (t.type === "METRIC") return `every ${t.metricThreshold} of ${t.metric.key}`;
  if (t.type === "ACHIEVEMENT") return `completing ${t.achievement.key}`;
  if (t.type === "STREAK") return `streak of ${t.streakLength}${t.everyMultiple ? " (every multiple)" : ""}`;
  if (t.type === "TIME") return `every ${t.timeInterval} ${t.timeUnit.toLowerCase()}(s)`;
  return "when a user is created";
}

const signed = (n) => (n > 0 ? `+${n}` : String(n));

export function Points() {
  const [data, setData] = useState(null);
  const [failure, setFailure] = useState(null);
  const reload = () =>
    gql(CATALOGUE)
      .then((d) => {
        setData(d);
        setFailure(null);
      })
      .catch((error) => setFailure(error.message));
  useEffect(() => {
    reload();
  }, []);
  const systems = data?.pointsSystems || [];
  return html`<${Screen} title="Points">
    <${Problems} messages=${failure ? [failure] : []} />
    <${NewSystem} onCreated=${reload} />
    ${data && !systems.length ? html`<p class="notice">No points system yet.</p>` : null}
    ${systems.map((s) => html`<${System} key=${s.key} systemKey=${s.key} catalogue=${data} />`)}
  </${Screen}>`;
}

function NewSystem({ onCreated }) {
  const empty = { key: "", name: "", description: "", maxPoints: "" };
  const [form, setForm] = useState(empty);
  const { submit, busy, fields, general } = useSubmit(async () => {
    const input = {
      key: form.key,
      name: form.name,
      description: form.description || null,
      maxPoints: form.maxPoints === "" ? null : Number(form.maxPoints),
    };
    await gql("mutation($i: CreatePointsSystemInput!) { createPointsSystem(input: $i) { key } }", { i: input });
    setForm(empty);
    await onCreated();
  }, ["key", "name", "description", "maxPoints"]);
  const set = (name) => (event) => setForm({ ...form, [name]: event.target.value });
  return html`<form class="panel" onSubmit=${submit} aria-label="New points system">
    <h2>New points system</h2>
    <${Problems} messages=${general} />
    <div class="row top">
      <${Field} label="Key" error=${fields.key} hint="Letters, digits, _ . : -">
        ${(id) => html`<input id=${id} name="key" value=${form.key} onInput=${set("key")} required />`}
      </${Field}>
      <${Field} label="Name" error=${fields.name}>
        ${(id) => html`<input id=${id} name="name" value=${form.name} onInput=${set("name")} required />`}
      </${Field}>
    </div>
    <${Field} label="Description" error=${fields.description}>
      ${(id) => html`<input id=${id} name="description" value=${form.description} onInput=${set("description")} />`}
    </${Field}>
    <${Field} label="Most points a user can hold" error=${fields.maxPoints} hint="Empty: no cap">
      ${(id) => html`<input id=${id} name="maxPoints" type="number" min="1" value=${form.maxPoints} onInput=${set("maxPoints")} />`}
    </${Field}>
    <button type="submit" disabled=${busy}>Create points system</button>
  </form>`;
}

function System({ systemKey, catalogue }) {
  const [system, setSystem] = useState(null);
  const [failure, setFailure] = useState(null);
  const onChanged = () =>
    gql(SYSTEM, { k: systemKey })
      .then((d) => {
        setSystem(d.pointsSystem);
        setFailure(null);
      })
      .catch((error) => setFailure(error.message));
  useEffect(() => {
    onChanged();
  }, [systemKey]);
  if (!system) return html`<${Problems} messages=${failure ? [failure] : []} />`;
  const users = Object.fromEntries(system.levelSummary.map((c) => [c.level.key, c.users]));
  return html`<section class="panel system" aria-label=${`Points system ${system.key}`} data-key=${system.key}>
    <h2>${system.name} <code>${system.key}</code></h2>
    <${Problems} messages=${failure ? [failure] : []} />
    ${system.description ? html`<p>${system.description}</p>` : null}
    <p class="notice">${system.maxPoints ? `At most ${system.maxPoints} points per user.` : "No cap on points."}</p>
    <h3>Triggers</h3>
    ${system.triggers.length ? html`<table aria-label=${`Triggers of ${system.key}`}>
      <thead><tr><th scope="col">Key</th><th scope="col">Type</th><th scope="col">Points</th><th scope="col">Rule</th><th scope="col">Status</th><th scope="col"></th></tr></thead>
      <tbody>${system.triggers.map((t) => html`<tr data-key=${t.key}>
        <td><code>${t.key}</code></td>
        <td>${t.type}</td>
        <td class="number">${signed(t.points)}</td>
        <td>${ruleOf(t)}</td>
        <td>${t.status}</td>
        <td><${TriggerStatus} systemKey=${system.key} trigger=${t} onChanged=${onChanged} /></td>
      </tr>`)}</tbody>
    </table>` : html`<p class="notice">No trigger yet.</p>`}
    <${NewTrigger} systemKey=${system.key} catalogue=${catalogue} onCreated=${onChanged} />
    <h3>Levels</h3>
    ${system.levels.length ? html`<table aria-label=${`Levels of ${system.key}`}>
      <thead><tr><th scope="col">Key</th><th scope="col">Name</th><th scope="col">From</th><th scope="col">Users</th><th scope="col"></th></tr></thead>
      <tbody>${system.levels.map((l) => html`<tr data-key=${l.key}>
        <td><code>${l.key}</code></td>
        <td>${l.name}</td>
        <td class="number">${l.points}</td>
        <td class="number users">${users[l.key] ?? 0}</td>
        <td><${DeleteLevel} systemKey=${system.key} level=${l} onChanged=${onChanged} /></td>
      </tr>`)}</tbody>
    </table>` : html`<p class="notice">No level yet.</p>`}
    <${NewLevel} systemKey=${system.key} onCreated=${onChanged} />
  </section>`;
}

// A button that runs one mutation and shows its refusal beside it.
function Action({ label, name, query, variables, onChanged, className }) {
  const [problem, setProblem] = useState(null);
  const run = async () => {
    try {
      await gql(query, variables);
      setProblem(null);
      await onChanged();
    } catch (error) {
      setProblem(error.message);
    }
  };
  return html`<div class="actions">
    <button type="button" class=${className} aria-label=${name} onClick=${run}>${label}</button>
    ${problem ? html`<p class="error" role="alert">${problem}</p>` : null}
  </div>`;
}

function TriggerStatus({ systemKey, trigger, onChanged }) {
  const next = trigger.status === "ACTIVE" ? "INACTIVE" : "ACTIVE";
  const label = next === "ACTIVE" ? "Activate" : "Deactivate";
  return html`<${Action} label=${label} name=${`${label} ${trigger.key}`} onChanged=${onChanged}
    query="mutation($s: String!, $k: String!, $t: PointsTriggerStatus!) { setPointsTriggerStatus(systemKey: $s, key: $k, status: $t) { __typename } }"
    variables=${{ s: systemKey, k: trigger.key, t: next }} />`;
}

function DeleteLevel({ systemKey, level, onChanged }) {
  return html`<${Action} label="Delete" name=${`Delete level ${level.key}`} className="danger" onChanged=${onChanged}
    query="mutation($s: String!, $k: String!) { deletePointsLevel(systemKey: $s, key: $k) }"
    variables=${{ s: systemKey, k: level.key }} />`;
}

function triggerType(form) {
  if (form.type === "metric") return { metric: { metricKey: form.metricKey, metricThreshold: Number(form.metricThreshold) } };
  if (form.type === "achievement") return { achievement: { achievementKey: form.achievementKey } };
  return { userCreation: true };
}

function NewTrigger({ systemKey, catalogue, onCreated }) {
  const { metrics, achievements } = catalogue;
  const empty = { type: "metric", key: "", points: "", metricKey: "", metricThreshold: "1", achievementKey: "" };
  const [form, setForm] = useState(empty);
  // The selects show their first option until one is chosen: send what they show.
  const shown = {
    ...form,
    metricKey: form.metricKey || metrics[0]?.key || "",
    achievementKey: form.achievementKey || achievements[0]?.key || "",
  };
  const { submit, busy, fields, general } = useSubmit(async () => {
    const input = { key: shown.key, points: Number(shown.points), type: triggerType(shown) };
    await gql(
      "mutation($s: String!, $i: CreatePointsTriggerInput!) { createPointsTrigger(systemKey: $s, input: $i) { __typename } }",
      { s: systemKey, i: input },
    );
    setForm({ ...empty, type: form.type });
    await onCreated();
  }, ["key", "points", "type", "type.metric.metricKey", "type.metric.metricThreshold", "type.achievement.achievementKey"]);
  const set = (name) => (event) => setForm({ ...form, [name]: event.target.value });
  return html`<form class="inner" onSubmit=${submit} aria-label=${`New trigger for ${systemKey}`}>
    <h4>New trigger <small class="notice">(created inactive)</small></h4>
    <${Problems} messages=${general} />
    <div class="row top">
      <${Field} label="Type" error=${fields.type}>
        ${(id) => html`<select id=${id} name="type" value=${form.type} onChange=${set("type")}>
          ${TRIGGER_TYPES.map(([value, label]) => html`<option value=${value}>${label}</option>`)}
        </select>`}
      </${Field}>
      <${Field} label="Key" error=${fields.key}>
        ${(id) => html`<input id=${id} name="key" value=${form.key} onInput=${set("key")} required />`}
      </${Field}>
      <${Field} label="Points" error=${fields.points} hint="Negative deducts">
        ${(id) => html`<input id=${id} name="points" type="number" value=${form.points} onInput=${set("points")} required />`}
      </${Field}>
    </div>
    ${form.type === "metric" ? html`<div class="row top">
      <${Field} label="Metric" error=${fields["type.metric.metricKey"]}>
        ${(id) => html`<select id=${id} name="metricKey" value=${shown.metricKey} onChange=${set("metricKey")}>
          ${metrics.map((m) => html`<option value=${m.key}>${m.name}</option>`)}
        </select>`}
      </${Field}>
      <${Field} label="Every" error=${fields["type.metric.metricThreshold"]} hint="Points each time the total grows by this">
        ${(id) => html`<input id=${id} name="metricThreshold" type="number" step="any" value=${form.metricThreshold}
          onInput=${set("metricThreshold")} required />`}
      </${Field}>
    </div>` : null}
    ${form.type === "achievement" ? html`<${Field} label="Achievement" error=${fields["type.achievement.achievementKey"]}>
      ${(id) => html`<select id=${id} name="achievementKey" value=${shown.achievementKey} onChange=${set("achievementKey")}>
        ${achievements.map((a) => html`<option value=${a.key}>${a.name}</option>`)}
      </select>`}
    </${Field}>` : null}
    <button type="submit" disabled=${busy}>Add trigger</button>
  </form>`;
}

function NewLevel({ systemKey, onCreated }) {
  const empty = { key: "", name: "", points: "" };
  const [form, setForm] = useState(empty);
  const { submit, busy, fields, general } = useSubmit(async () => {
    const input = { key: form.key, name: form.name, points: Number(form.points) };
    await gql(
      "mutation($s: String!, $i: CreatePointsLevelInput!) { createPointsLevel(systemKey: $s, input: $i) { key } }",
      { s: systemKey, i: input },
    );
    setForm(empty);
    await onCreated();
  }, ["key", "name", "points"]);
  const set = (name) => (event) => setForm({ ...form, [name]: event.target.value });
  return html`<form class="inner" onSubmit=${submit} aria-label=${`New level for ${systemKey}`}>
    <h4>New level</h4>
    <${Problems} messages=${general} />
    <div class="row top">
      <${Field} label="Key" error=${fields.key}>
        ${(id) => html`<input id=${id} name="key" value=${form.key} onInput=${set("key")} required />`}
      </${Field}>
      <${Field} label="Name" error=${fields.name}>
        ${(id) => html`<input id=${id} name="name" value=${form.name} onInput=${set("name")} required />`}
      </${Field}>
      <${Field} label="From points" error=${fields.points}>
        ${(id) => html`<input id=${id} name="points" type="number" min="0" value=${form.points} onInput=${set("points")} required />`}
      </${Field}>
    </div>
    <button type="submit" disabled=${busy}>Add level</button>
  </form>`;
}
