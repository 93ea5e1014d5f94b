// Webhook endpoints, their delivery log, redelivery and test events.
import { html, useEffect, useState } from "./htm-preact-3.1.1.module.js";
import { gql } from "./api.js";
import { Field, Problems, Screen, useSubmit } from "./ui.js";

const TYPES = [
  "ACHIEVEMENT_COMPLETED",
  "USER_CREATED",
  "STREAK_STARTED",
  "STREAK_EXTENDED",
  "STREAK_LOST",
  "STREAK_FREEZE_CONSUMED",
  "STREAK_FREEZE_EARNED",
];
const ENDPOINTS = "{ webhookEndpoints { id url description eventTypes status disabledReason } }";
const DELIVERIES = `query($e: ID!) { webhookDeliveries(endpointId: $e, limit: 20) {
  id eventType status createdAt nextAttemptAt attempts { responseStatus error attemptedAt trigger }
} }`;

export function Webhooks() {
  const [endpoints, setEndpoints] = useState([]);
  const [open, setOpen] = useState(null);
  const reload = () => gql(ENDPOINTS).then((data) => setEndpoints(data.webhookEndpoints));
  useEffect(() => {
    reload();
  }, []);
  return html`<${Screen} title="Webhooks">
    <table>
      <thead><tr><th scope="col">URL</th><th scope="col">Events</th><th scope="col">Status</th><th scope="col"></th></tr></thead>
      <tbody>${endpoints.map((e) => html`<tr>
        <td><code>${e.url}</code>${e.description ? html`<br /><small>${e.description}</small>` : null}</td>
        <td>${e.eventTypes.join(", ")}</td>
        <td>${e.status}${e.disabledReason ? ` (${e.disabledReason})` : ""}</td>
        <td><${EndpointActions} endpoint=${e} onChanged=${reload} onOpen=${() => setOpen(e.id)} /></td>
      </tr>`)}</tbody>
    </table>
    ${open ? html`<${Deliveries} endpointId=${open} />` : null}
    <${NewEndpoint} onCreated=${reload} />
  </${Screen}>`;
}

function EndpointActions({ endpoint, onChanged, onOpen }) {
  const [problem, setProblem] = useState(null);
  const run = (query, variables) => async () => {
    try {
      await gql(query, variables);
      setProblem(null);
      await onChanged();
    } catch (error) {
      setProblem(error.message);
    }
  };
  const next = endpoint.status === "ENABLED" ? "DISABLED" : "ENABLED";
  return html`<div class="actions">
    <button type="button" onClick=${onOpen}>Deliveries</button>
    <button type="button" onClick=${run("mutation($e: ID!) { sendTestWebhook(endpointId: $e) { status } }", { e: endpoint.id })}>Send test</button>
    <button type="button" onClick=${run(
      "mutation($e: ID!, $s: WebhookEndpointStatus!) { setWebhookEndpointStatus(id: $e, status: $s) { status } }",
      { e: endpoint.id, s: next },
    )}>${next === "ENABLED" ? "Enable" : "Disable"}</button>
    ${problem ? html`<p class="error" role="alert">${problem}</p>` : null}
  </div>`;
}

function Deliveries({ endpointId }) {
  const [log, setLog] = useState([]);
  const [problem, setProblem] = useState(null);
  const reload = () => gql(DELIVERIES, { e: endpointId }).then((data) => setLog(data.webhookDeliveries));
  useEffect(() => {
    reload();
  }, [endpointId]);
  const redeliver = (id) => async () => {
    try {
      await gql("mutation($d: ID!) { redeliverWebhook(deliveryId: $d) { status } }", { d: id });
      setProblem(null);
      await reload();
    } catch (error) {
      setProblem(error.message);
    }
  };
  return html`<div class="panel">
    <h2>Deliveries</h2>
    <${Problems} messages=${problem ? [problem] : []} />
    <table>
      <thead><tr><th scope="col">Event</th><th scope="col">Status</th><th scope="col">Last attempt</th><th scope="col"></th></tr></thead>
      <tbody>${log.map((d) => {
        const last = d.attempts[d.attempts.length - 1];
        return html`<tr>
          <td>${d.eventType}<br /><small>${new Date(d.createdAt).toLocaleString()}</small></td>
          <td>${d.status}${d.nextAttemptAt ? html`<br /><small>next ${new Date(d.nextAttemptAt).toLocaleTimeString()}</small>` : null}</td>
          <td>${last ? `${last.responseStatus ?? last.error} (${last.trigger.toLowerCase()})` : "—"}</td>
          <td><button type="button" onClick=${redeliver(d.id)}>Redeliver</button></td>
        </tr>`;
      })}</tbody>
    </table>
  </div>`;
}

function NewEndpoint({ onCreated }) {
  const [form, setForm] = useState({ url: "", description: "", eventTypes: ["ACHIEVEMENT_COMPLETED"] });
  const [secret, setSecret] = useState(null);
  const { submit, busy, fields, general } = useSubmit(async () => {
    const input = { ...form, description: form.description || null };
    const data = await gql(
      "mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) { secret } }",
      { i: input },
    );
    setSecret(data.createWebhookEndpoint.secret);
    await onCreated();
  }, ["url", "description", "eventTypes"]);
  const toggle = (type) => (event) =>
    setForm({
      ...form,
      eventTypes: event.target.checked ? [...form.eventTypes, type] : form.eventTypes.filter((t) => t !== type),
    });
  return html`<form class="panel" onSubmit=${submit} aria-label="New endpoint">
    <h2>New endpoint</h2>
    <${Problems} messages=${general} />
    <${Field} label="URL" error=${fields.url}>
      ${(id) => html`<input id=${id} name="url" type="url" value=${form.url} onInput=${(e) => setForm({ ...form, url: e.target.value })} required />`}
    </${Field}>
    <${Field} label="Description" error=${fields.description}>
      ${(id) => html`<input id=${id} name="description" value=${form.description} onInput=${(e) => setForm({ ...form, description: e.target.value })} />`}
    </${Field}>
    <fieldset class=${fields.eventTypes ? "invalid" : ""}>
      <legend>Event types</legend>
      ${TYPES.map((t) => html`<label class="check"><input type="checkbox" checked=${form.eventTypes.includes(t)} onChange=${toggle(t)} /> ${t}</label>`)}
      ${fields.eventTypes ? html`<p class="error" role="alert">${fields.eventTypes}</p>` : null}
    </fieldset>
    <button type="submit" disabled=${busy}>Create endpoint</button>
    ${secret ? html`<p class="secret" role="status">Signing secret, shown once: <code>${secret}</code></p>` : null}
  </form>`;
}
