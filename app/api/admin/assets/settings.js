// The tenant's streak settings, API keys and the user-token secret.
import { html, useEffect, useState } from "./htm-preact-3.1.1.module.js";
import { gql } from "./api.js";
import { Field, Problems, Screen, useSubmit } from "./ui.js";

const SETTINGS = "frequency metrics { key } freezes { startCount maxCount autoEarnInterval autoEarnAmount }";
const NO_FREEZES = { on: false, startCount: "0", maxCount: "3", autoEarnInterval: "", autoEarnAmount: "" };

// Freeze settings as the form holds them (text fields), and back as configureStreak takes them.
function freezeForm(freezes) {
  if (!freezes) return NO_FREEZES;
  const text = (n) => (n === null ? "" : String(n));
  return {
    on: true,
    startCount: text(freezes.startCount),
    maxCount: text(freezes.maxCount),
    autoEarnInterval: text(freezes.autoEarnInterval),
    autoEarnAmount: text(freezes.autoEarnAmount),
  };
}

function freezeInput(form) {
  if (!form.on) return null;
  const number = (text) => (text === "" ? null : Number(text));
  return {
    startCount: Number(form.startCount || 0),
    maxCount: Number(form.maxCount),
    autoEarnInterval: number(form.autoEarnInterval),
    autoEarnAmount: number(form.autoEarnAmount),
  };
}

function describe(saved) {
  const metrics = saved.metrics.map((m) => m.key).join(", ");
  const f = saved.freezes;
  const freezes = !f
    ? "no freezes"
    : `freezes: ${f.startCount} to start, at most ${f.maxCount}` +
      (f.autoEarnInterval ? `, ${f.autoEarnAmount} every ${f.autoEarnInterval} days` : "");
  return `Now: ${saved.frequency.toLowerCase()}, on ${metrics}; ${freezes}.`;
}

export function Streak() {
  const [metrics, setMetrics] = useState([]);
  const [form, setForm] = useState({ frequency: "DAILY", metricKeys: [], freezes: NO_FREEZES });
  const [saved, setSaved] = useState(null);
  useEffect(() => {
    gql(`{ metrics { key name } streakSettings { ${SETTINGS} } }`).then((data) => {
      setMetrics(data.metrics);
      const current = data.streakSettings;
      if (current) {
        setForm({
          frequency: current.frequency,
          metricKeys: current.metrics.map((m) => m.key),
          freezes: freezeForm(current.freezes),
        });
      }
      setSaved(current);
    });
  }, []);
  const { submit, busy, fields, general } = useSubmit(async () => {
    const input = { frequency: form.frequency, metricKeys: form.metricKeys, freezes: freezeInput(form.freezes) };
    const data = await gql(
      `mutation($i: ConfigureStreakInput!) { configureStreak(input: $i) { ${SETTINGS} } }`,
      { i: input },
    );
    setSaved(data.configureStreak);
  }, ["frequency", "metricKeys", ...FREEZE_FIELDS.map(([name]) => `freezes.${name}`)]);
  const setFreeze = (name, value) => setForm({ ...form, freezes: { ...form.freezes, [name]: value } });
  const toggle = (key) => (event) =>
    setForm({
      ...form,
      metricKeys: event.target.checked ? [...form.metricKeys, key] : form.metricKeys.filter((k) => k !== key),
    });
  return html`<${Screen} title="Streak">
    <p class="notice">${saved ? describe(saved) : "No streak is configured."}</p>
    <form class="panel" onSubmit=${submit} aria-label="Streak settings">
      <${Problems} messages=${general} />
      <${Field} label="Frequency" error=${fields.frequency}>
        ${(id) => html`<select id=${id} name="frequency" value=${form.frequency}
          onChange=${(e) => setForm({ ...form, frequency: e.target.value })}>
          <option value="DAILY">Daily</option><option value="WEEKLY">Weekly</option><option value="MONTHLY">Monthly</option>
        </select>`}
      </${Field}>
      <fieldset class=${fields.metricKeys ? "invalid" : ""}>
        <legend>Metrics that count</legend>
        ${metrics.map((m) => html`<label class="check">
          <input type="checkbox" checked=${form.metricKeys.includes(m.key)} onChange=${toggle(m.key)} /> ${m.name}</label>`)}
        ${fields.metricKeys ? html`<p class="error" role="alert">${fields.metricKeys}</p>` : null}
      </fieldset>
      <fieldset>
        <legend>Freezes</legend>
        <label class="check"><input type="checkbox" name="freezesOn" checked=${form.freezes.on}
          onChange=${(e) => setFreeze("on", e.target.checked)} /> A freeze covers a missed period</label>
        ${form.freezes.on && FREEZE_FIELDS.map(([name, label]) => html`
          <${Field} label=${label} error=${fields[`freezes.${name}`]}>
            ${(id) => html`<input id=${id} name=${name} type="number" min="0" value=${form.freezes[name]}
              onInput=${(e) => setFreeze(name, e.target.value)} />`}
          </${Field}>`)}
      </fieldset>
      <button type="submit" disabled=${busy}>Save streak settings</button>
    </form>
  </${Screen}>`;
}

const FREEZE_FIELDS = [
  ["startCount", "Freezes a new user holds"],
  ["maxCount", "Most freezes a user can hold (1 to 100)"],
  ["autoEarnInterval", "Days between automatic grants (empty: none)"],
  ["autoEarnAmount", "Freezes per automatic grant"],
];

export function Keys() {
  const [form, setForm] = useState({ name: "", role: "SERVER" });
  const [created, setCreated] = useState(null);
  const [prefix, setPrefix] = useState("");
  const [done, setDone] = useState(null);
  const create = useSubmit(async () => {
    const data = await gql(
      "mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { key prefix name role } }",
      { i: form },
    );
    setCreated(data.createApiKey);
  }, ["name", "role"]);
  const revoke = useSubmit(async () => {
    const data = await gql("mutation($p: String!) { revokeApiKey(prefix: $p) }", { p: prefix });
    setDone(data.revokeApiKey ? `Key ${prefix} revoked.` : `No key ${prefix}.`);
  }, ["prefix"]);
  const rotate = useSubmit(async () => {
    await gql("mutation { rotateUserTokenSecret }");
    setDone("Every user token of this tenant is now invalid.");
  });
  return html`<${Screen} title="API keys">
    <form class="panel" onSubmit=${create.submit} aria-label="New API key">
      <h2>New API key</h2>
      <${Problems} messages=${create.general} />
      <${Field} label="Name" error=${create.fields.name}>
        ${(id) => html`<input id=${id} name="name" value=${form.name} onInput=${(e) => setForm({ ...form, name: e.target.value })} required />`}
      </${Field}>
      <${Field} label="Role" error=${create.fields.role}>
        ${(id) => html`<select id=${id} name="role" value=${form.role} onChange=${(e) => setForm({ ...form, role: e.target.value })}>
          <option value="SERVER">Server (events, completions, reads)</option><option value="ADMIN">Admin (everything)</option>
        </select>`}
      </${Field}>
      <button type="submit" disabled=${create.busy}>Create key</button>
      ${created ? html`<p class="secret" role="status">Copy it now, it is shown once: <code>${created.key}</code></p>` : null}
    </form>
    <form class="panel" onSubmit=${revoke.submit} aria-label="Revoke a key">
      <h2>Revoke a key</h2>
      <${Problems} messages=${revoke.general} />
      <${Field} label="Prefix" error=${revoke.fields.prefix} hint="The part of the key before the dot">
        ${(id) => html`<input id=${id} name="prefix" value=${prefix} onInput=${(e) => setPrefix(e.target.value)} required />`}
      </${Field}>
      <button type="submit" disabled=${revoke.busy}>Revoke</button>
    </form>
    <form class="panel" onSubmit=${rotate.submit} aria-label="User tokens">
      <h2>User tokens</h2>
      <${Problems} messages=${rotate.general} />
      <p>Rotating the secret that signs user tokens logs every user out of frontends at once.</p>
      <button type="submit" class="danger" disabled=${rotate.busy}>Rotate the user-token secret</button>
    </form>
    ${done ? html`<p class="notice" role="status">${done}</p>` : null}
  </${Screen}>`;
}
