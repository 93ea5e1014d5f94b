// The dashboard's shell: sign-in with an ADMIN key, navigation by the address's fragment.
import { html, render, useEffect, useState } from "./htm-preact-3.1.1.module.js";
import { Refused, forgetKey, gql, keepKey, storedKey } from "./api.js";
import { Achievements, Metrics } from "./catalogue.js";
import { Users } from "./people.js";
import { Points } from "./points.js";
import { Keys, Streak } from "./settings.js";
import { Field } from "./ui.js";
import { Webhooks } from "./webhooks.js";

const SCREENS = {
  achievements: ["Achievements", Achievements],
  metrics: ["Metrics", Metrics],
  users: ["Users", Users],
  points: ["Points", Points],
  streak: ["Streak", Streak],
  keys: ["API keys", Keys],
  webhooks: ["Webhooks", Webhooks],
};

function SignIn({ onSignedIn }) {
  const [key, setKey] = useState("");
  const [problem, setProblem] = useState(null);
  const signIn = async (event) => {
    event.preventDefault();
    try {
      // Webhook endpoints are readable by ADMIN keys only: the cheapest proof of the role.
      await gql("{ webhookEndpoints { id } }", {}, key.trim());
      keepKey(key.trim());
      onSignedIn();
    } catch (error) {
      if (!(error instanceof Refused)) return setProblem(error.message);
      setProblem(
        error.code === "FORBIDDEN"
          ? "This key cannot run the programme: the dashboard needs an ADMIN key."
          : error.message,
      );
    }
  };
  return html`<main class="sign-in">
    <form class="panel" onSubmit=${signIn} aria-label="Sign in">
      <h1>Laurel</h1>
      <p>Sign in with an ADMIN API key. It stays in this tab only.</p>
      <${Field} label="API key" error=${problem}>
        ${(id) => html`<input id=${id} name="apiKey" type="password" autocomplete="off" value=${key}
          onInput=${(e) => setKey(e.target.value)} required />`}
      </${Field}>
      <button type="submit">Sign in</button>
    </form>
  </main>`;
}

function currentScreen() {
  const name = window.location.hash.replace(/^#\/?/, "");
  return name in SCREENS ? name : "achievements";
}

function App() {
  const [signedIn, setSignedIn] = useState(Boolean(storedKey()));
  const [screen, setScreen] = useState(currentScreen());
  useEffect(() => {
    const follow = () => setScreen(currentScreen());
    window.addEventListener("hashchange", follow);
    return () => window.removeEventListener("hashchange", follow);
  }, []);
  if (!signedIn) return html`<${SignIn} onSignedIn=${() => setSignedIn(true)} />`;
  const [, Shown] = SCREENS[screen];
  const signOut = () => {
    forgetKey();
    setSignedIn(false);
  };
  return html`<div class="layout">
    <nav aria-label="Sections">
      <span class="brand">Laurel</span>
      <ul>${Object.entries(SCREENS).map(([name, [label]]) => html`<li>
        <a href=${`#/${name}`} aria-current=${name === screen ? "page" : null}>${label}</a></li>`)}</ul>
      <button type="button" class="link" onClick=${signOut}>Sign out</button>
    </nav>
    <main><${Shown} key=${screen} /></main>
  </div>`;
}

window.addEventListener("unhandledrejection", (event) => {
  const shown = document.getElementById("failure");
  if (shown) shown.textContent = String(event.reason?.message || event.reason);
});

render(html`<${App} /><p id="failure" class="problems" role="alert"></p>`, document.getElementById("app"));
