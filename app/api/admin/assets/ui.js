// Shared pieces: labelled fields that show the server's message for them, a form's other
// errors, and a hook that runs a mutation and keeps its refusal.
import { html, useState } from "./htm-preact-3.1.1.module.js";
import { Refused, upload } from "./api.js";

let ids = 0;

// One labelled input; `error` is the server's message for it.
export function Field({ label, error, hint, children }) {
  const [id] = useState(() => `field-${++ids}`);
  const control = typeof children === "function" ? children(id) : children;
  return html`<div class=${`field${error ? " invalid" : ""}`}>
    <label for=${id}>${label}</label>
    ${control}
    ${hint && !error ? html`<p class="hint">${hint}</p>` : null}
    ${error ? html`<p class="error" role="alert" id=${`${id}-error`}>${error}</p>` : null}
  </div>`;
}

export function Problems({ messages }) {
  if (!messages?.length) return null;
  return html`<div class="problems" role="alert">${messages.map((m) => html`<p>${m}</p>`)}</div>`;
}

// Runs `action`; a refusal (or a failure to reach the server) is kept as {fields, general}
// for the form to show.
export function useSubmit(action, fieldsKnown = []) {
  const [refusal, setRefusal] = useState({ fields: {}, general: [] });
  const [busy, setBusy] = useState(false);
  const submit = async (event) => {
    event?.preventDefault();
    setBusy(true);
    try {
      await action();
      setRefusal({ fields: {}, general: [] });
    } catch (error) {
      if (!(error instanceof Refused)) {
        setRefusal({ fields: {}, general: [error.message] });
        return;
      }
      const fields = error.byField;
      const unplaced = Object.entries(fields)
        .filter(([field]) => !fieldsKnown.includes(field))
        .map(([, message]) => message);
      setRefusal({ fields, general: [...error.general, ...unplaced] });
    } finally {
      setBusy(false);
    }
  };
  return { submit, busy, fields: refusal.fields, general: refusal.general };
}

export function Screen({ title, children }) {
  return html`<section class="screen" aria-labelledby="screen-title">
    <h1 id="screen-title">${title}</h1>
    ${children}
  </section>`;
}

export const percent = (value) => `${value >= 10 || value === 0 ? Math.round(value) : value.toFixed(1)}%`;

// A badge image: uploaded as soon as it is chosen, previewed, its URL handed to the form.
export function BadgeField({ url, error, onUploaded }) {
  const [problem, setProblem] = useState(null);
  const send = async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    try {
      const data = await upload("mutation($file: Upload!) { uploadBadge(file: $file) { url } }", file);
      setProblem(null);
      onUploaded(data.uploadBadge.url);
    } catch (failure) {
      setProblem(failure.message);
    }
  };
  return html`<${Field} label="Badge" error=${error || problem} hint="PNG, JPEG, GIF or WebP, at most 1 MiB">
      ${(id) => html`<input id=${id} name="badge" type="file" accept="image/png,image/jpeg,image/gif,image/webp" onChange=${send} />`}
    </${Field}>
    ${url ? html`<img class="preview" src=${url} alt="Badge preview" />` : null}`;
}
