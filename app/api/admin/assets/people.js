// Users: look one up and see totals, achievements with progress, and the streak.
import { html, useState } from "./htm-preact-3.1.1.module.js";
import { gql } from "./api.js";
import { Field, Problems, Screen, useSubmit } from "./ui.js";

function userQuery(metricKeys) {
  const totals = metricKeys
    .map((key, i) => `total${i}: metricTotal(metricKey: ${JSON.stringify(key)})`)
    .join(" ");
  return `query($id: String!) { user(id: $id) {
    id name email tz attributes { key value }
    ${totals}
    streak { length frequency started expires freezes history(periods: 28) { periodStart periodEnd length usedFreeze } }
    achievements(includeIncomplete: true) {
      achievedAt progress { current target percent }
      achievement { ... on Achievement { key name } }
    }
  } }`;
}

export function Users() {
  const [id, setId] = useState("");
  const [found, setFound] = useState(undefined);
  const { submit, busy, fields, general } = useSubmit(async () => {
    const metrics = (await gql("{ metrics { key name } }")).metrics.slice(0, 10);
    const data = await gql(userQuery(metrics.map((m) => m.key)), { id });
    setFound(data.user ? { user: data.user, metrics } : null);
  }, ["id"]);
  return html`<${Screen} title="Users">
    <form class="panel row" onSubmit=${submit} aria-label="Find a user">
      <${Problems} messages=${general} />
      <${Field} label="User ID" error=${fields.id}>
        ${(fid) => html`<input id=${fid} name="userId" value=${id} onInput=${(e) => setId(e.target.value)} required />`}
      </${Field}>
      <button type="submit" disabled=${busy}>Look up</button>
    </form>
    ${found === null ? html`<p class="notice">No user with that ID.</p>` : null}
    ${found ? html`<${Profile} ...${found} />` : null}
  </${Screen}>`;
}

// The last 28 periods, oldest first: a period was active when the run at its end is longer
// than the one before it (the current period carries the run before it until it has an event);
// a frozen one kept the streak without an event.
function Calendar({ history }) {
  const periods = [...history].reverse();
  return html`<ol class="calendar" aria-label="Streak periods, oldest first">
    ${periods.map((p, i) => {
      const before = i > 0 ? periods[i - 1].length : 0;
      const active = !p.usedFreeze && (i === periods.length - 1 ? p.length > before : p.length > 0);
      const state = p.usedFreeze ? "frozen" : active ? "active" : "";
      const label = `${p.periodStart}${p.periodEnd !== p.periodStart ? ` to ${p.periodEnd}` : ""}: ${p.usedFreeze ? "covered by a freeze" : active ? "active" : "no activity"}`;
      return html`<li class=${state} title=${label} aria-label=${label}></li>`;
    })}
  </ol>`;
}

function Profile({ user, metrics }) {
  return html`<div class="profile">
    <dl class="facts">
      <dt>ID</dt><dd><code>${user.id}</code></dd>
      <dt>Name</dt><dd>${user.name || "—"}</dd>
      <dt>Email</dt><dd>${user.email || "—"}</dd>
      <dt>Time zone</dt><dd>${user.tz}</dd>
      <dt>Attributes</dt><dd>${user.attributes.map((a) => `${a.key}: ${a.value}`).join(", ") || "—"}</dd>
      <dt>Streak</dt><dd>${user.streak ? `${user.streak.length} (${user.streak.frequency.toLowerCase()})` : "none configured"}</dd>
      ${user.streak && user.streak.freezes !== null ? html`<dt>Freezes</dt><dd>${user.streak.freezes}</dd>` : null}
      ${user.streak?.expires ? html`<dt>Streak ends</dt><dd>${new Date(user.streak.expires).toLocaleString()}</dd>` : null}
    </dl>
    ${user.streak ? html`<h2>Streak</h2><${Calendar} history=${user.streak.history} />` : null}
    <h2>Totals</h2>
    <table>
      <thead><tr><th scope="col">Metric</th><th scope="col">Total</th></tr></thead>
      <tbody>${metrics.map((m, i) => html`<tr><td>${m.name}</td><td class="number">${user[`total${i}`]}</td></tr>`)}</tbody>
    </table>
    <h2>Achievements</h2>
    <ul class="progress-list">
      ${user.achievements.map((line) => html`<li>
        <span class="name">${line.achievement.name}</span>
        ${line.achievedAt
          ? html`<span class="earned">Earned ${new Date(line.achievedAt).toLocaleDateString()}</span>`
          : html`<span class="bar" role="progressbar" aria-label=${line.achievement.name}
              aria-valuemin="0" aria-valuemax="100" aria-valuenow=${Math.round(line.progress.percent)}>
              <span style=${{ width: `${line.progress.percent}%` }}></span></span>
            <span class="count">${line.progress.current} / ${line.progress.target}</span>`}
      </li>`)}
    </ul>
  </div>`;
}
