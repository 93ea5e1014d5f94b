// One achievement: its completions over the last 30 days as a chart, and an edit form.
import { html, useEffect, useRef, useState } from "./htm-preact-3.1.1.module.js";
import uPlot from "./uPlot-1.6.32.esm.js";
import { gql } from "./api.js";
import { BadgeField, Field, Problems, useSubmit } from "./ui.js";

const CHART = `query($k: String!) { achievement(key: $k) {
  ... on Achievement { completionsByDay(days: 30) { day completions } }
} }`;

function Chart({ series }) {
  const box = useRef(null);
  useEffect(() => {
    if (!box.current || !series) return undefined;
    const days = series.map((s) => Date.parse(`${s.day}T00:00:00Z`) / 1000);
    const counts = series.map((s) => s.completions);
    const chart = new uPlot(
      {
        width: Math.min(640, box.current.clientWidth || 640),
        height: 200,
        series: [{}, { label: "Completions", stroke: "#7a5c12", fill: "rgba(122, 92, 18, 0.15)" }],
        axes: [{}, { values: (u, ticks) => ticks.map((t) => (Number.isInteger(t) ? t : "")) }],
        scales: { x: { time: true } },
        legend: { show: false },
      },
      [days, counts],
      box.current,
    );
    return () => chart.destroy();
  }, [series]);
  const total = series ? series.reduce((sum, s) => sum + s.completions, 0) : 0;
  return html`<figure class="chart">
    <div ref=${box} role="img" aria-label=${`Completions per day over 30 days: ${total} in all`}></div>
    <figcaption>Completions per day, last 30 days (UTC): ${total} in all</figcaption>
  </figure>`;
}

const EDIT_FIELDS = ["name", "description", "badgeUrl", "metricValue", "streakLength", "key"];

export function AchievementDetail({ achievement, onChanged }) {
  const [series, setSeries] = useState(null);
  const [form, setForm] = useState(() => ({
    name: achievement.name,
    description: achievement.description || "",
    badgeUrl: achievement.badgeUrl || "",
    hidden: achievement.hidden,
    metricValue: achievement.metricValue ?? "",
    streakLength: achievement.streakLength ?? "",
  }));
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    gql(CHART, { k: achievement.key }).then((d) => setSeries(d.achievement.completionsByDay));
  }, [achievement.key]);
  const { submit, busy, fields, general } = useSubmit(async () => {
    const input = {
      name: form.name, description: form.description, badgeUrl: form.badgeUrl || null, hidden: form.hidden,
    };
    if (achievement.trigger === "METRIC") input.metricValue = Number(form.metricValue);
    if (achievement.trigger === "STREAK") input.streakLength = Number(form.streakLength);
    await gql(
      "mutation($k: String!, $i: UpdateAchievementInput!) { updateAchievement(key: $k, input: $i) { __typename } }",
      { k: achievement.key, i: input },
    );
    setSaved(true);
    await onChanged();
  }, EDIT_FIELDS);
  const set = (name) => (event) => {
    setSaved(false);
    setForm({ ...form, [name]: event.target.value });
  };
  return html`<section class="panel detail" aria-label=${`Achievement ${achievement.key}`}>
    <h2>${achievement.name} <code>${achievement.key}</code></h2>
    <${Chart} series=${series} />
    <form onSubmit=${submit} aria-label="Edit achievement">
      <${Problems} messages=${general} />
      <${Field} label="Name" error=${fields.name}>
        ${(id) => html`<input id=${id} name="name" value=${form.name} onInput=${set("name")} required />`}
      </${Field}>
      <${Field} label="Description" error=${fields.description}>
        ${(id) => html`<textarea id=${id} name="description" value=${form.description} onInput=${set("description")} />`}
      </${Field}>
      ${achievement.trigger === "METRIC" && html`<${Field} label="Threshold" error=${fields.metricValue}>
        ${(id) => html`<input id=${id} name="metricValue" type="number" step="any" value=${form.metricValue} onInput=${set("metricValue")} />`}
      </${Field}>`}
      ${achievement.trigger === "STREAK" && html`<${Field} label="Length" error=${fields.streakLength}>
        ${(id) => html`<input id=${id} name="streakLength" type="number" value=${form.streakLength} onInput=${set("streakLength")} />`}
      </${Field}>`}
      <${BadgeField} url=${form.badgeUrl} error=${fields.badgeUrl}
        onUploaded=${(badgeUrl) => setForm({ ...form, badgeUrl })} />
      <label class="check"><input type="checkbox" checked=${form.hidden}
        onChange=${(e) => setForm({ ...form, hidden: e.target.checked })} /> Hidden until earned</label>
      <button type="submit" disabled=${busy}>Save changes</button>
      ${saved ? html`<p class="notice" role="status">Saved.</p>` : null}
    </form>
  </section>`;
}
