// The badge wall: one user's achievements, read with that user's token, live over a
// subscription. Everything is built with textContent: no server value is ever parsed as HTML.
const TOKEN_KEY = "laurel-wall-token";
const REFRESH_MS = 3000;
const QUERY = `query Wall($id: String!) {
  user(id: $id) {
    achievements(includeIncomplete: true) {
      achievedAt
      progress { current target percent }
      achievement { ... on Achievement { key name description badgeUrl hidden rarity } }
    }
  }
}`;
const UNLOCKS = `subscription {
  achievementUnlocked { achievement { achievement { ... on Achievement { name } } } }
}`;

// `?theme-accent=%23aa3300` (and the others) set the wall's custom properties from the embedding
// page; values the browser would not accept for that kind of property are ignored.
const THEME = {
  background: "color", text: "color", muted: "color", card: "color", border: "color",
  accent: "color", progress: "color", "progress-track": "color", toast: "color",
  "toast-text": "color", radius: "border-radius", font: "font-family",
};

function applyTheme() {
  const params = new URL(window.location.href).searchParams;
  for (const [name, property] of Object.entries(THEME)) {
    const value = params.get(`theme-${name}`);
    if (value && CSS.supports(property, value)) {
      document.documentElement.style.setProperty(`--wall-${name}`, value);
    }
  }
}

function takeToken() {
  const url = new URL(window.location.href);
  const given = url.searchParams.get("token");
  if (given) {
    sessionStorage.setItem(TOKEN_KEY, given);
    url.searchParams.delete("token");
    history.replaceState(null, "", url.pathname + url.search + url.hash);
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

function userOf(token) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(payload)).sub;
  } catch {
    return null;
  }
}

function notice(text) {
  const element = document.getElementById("notice");
  element.textContent = text;
  element.hidden = !text;
}

function element(tag, className, text) {
  const made = document.createElement(tag);
  if (className) made.className = className;
  if (text !== undefined) made.textContent = text;
  return made;
}

function picture(achievement, masked) {
  const url = achievement.badgeUrl;
  if (!masked && url && /^https?:\/\//.test(url)) {
    const image = element("img");
    image.src = url;
    image.alt = "";
    return image;
  }
  const initial = masked ? "?" : (achievement.name || "?").trim().charAt(0).toUpperCase();
  const placeholder = element("div", "placeholder", initial);
  placeholder.setAttribute("aria-hidden", "true");
  return placeholder;
}

function card(line) {
  const achievement = line.achievement;
  const done = Boolean(line.achievedAt);
  const masked = achievement.hidden && !done;
  const item = element("li", `badge ${done ? "completed" : "incomplete"}`);
  item.dataset.key = achievement.key;
  item.append(picture(achievement, masked));
  item.append(element("h2", "", masked ? "Secret achievement" : achievement.name));
  if (!masked && achievement.description) item.append(element("p", "", achievement.description));
  if (done) {
    const day = new Date(line.achievedAt).toLocaleDateString(undefined, { dateStyle: "medium" });
    item.append(element("p", "earned", `Earned ${day}`));
  } else if (!masked) {
    const percent = Math.round(line.progress.percent);
    const bar = element("div", "progress");
    bar.setAttribute("role", "progressbar");
    bar.setAttribute("aria-valuemin", "0");
    bar.setAttribute("aria-valuemax", "100");
    bar.setAttribute("aria-valuenow", String(percent));
    bar.setAttribute("aria-label", `${achievement.name}: ${percent}%`);
    const fill = element("span");
    fill.style.width = `${percent}%`;
    bar.append(fill);
    item.append(bar);
    item.append(element("p", "", `${line.progress.current} of ${line.progress.target}`));
  }
  item.append(element("p", "rarity", `${formatRarity(achievement.rarity)}% of players`));
  return item;
}

function formatRarity(rarity) {
  return rarity >= 10 || rarity === 0 ? String(Math.round(rarity)) : rarity.toFixed(1);
}

async function load(token, userId) {
  const response = await fetch("/graphql", {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: QUERY, variables: { id: userId } }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(body.errors[0].message);
  const lines = body.data.user ? body.data.user.achievements : [];
  const list = document.getElementById("badges");
  list.replaceChildren(...lines.map(card));
  const earned = lines.filter((line) => line.achievedAt).length;
  document.getElementById("summary").textContent = `${earned} of ${lines.length} earned`;
  notice(lines.length ? "" : "No achievements yet.");
}

function toast(text) {
  const shown = element("div", "toast", text);
  document.getElementById("toasts").append(shown);
  setTimeout(() => shown.remove(), 6000);
}

function listen(token, refresh) {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  const client = window.graphqlWs.createClient({
    url: `${scheme}://${window.location.host}/graphql`,
    connectionParams: { token },
    retryAttempts: Infinity,
  });
  client.subscribe(
    { query: UNLOCKS },
    {
      next: (message) => {
        const unlocked = message.data && message.data.achievementUnlocked;
        const name = unlocked && unlocked.achievement.achievement.name;
        toast(`Achievement unlocked: ${name || "a secret achievement"}`);
        refresh();
      },
      error: () => notice("Live updates stopped; the page still refreshes."),
      complete: () => {},
    },
  );
}

async function main() {
  applyTheme();
  const token = takeToken();
  const userId = token && userOf(token);
  if (!userId) {
    notice("Open this page with ?token= and a user token from your application.");
    return;
  }
  const refresh = () => load(token, userId).catch((error) => notice(error.message));
  await refresh();
  listen(token, refresh);
  setInterval(() => {
    if (document.visibilityState === "visible") refresh();
  }, REFRESH_MS);
}

main();
