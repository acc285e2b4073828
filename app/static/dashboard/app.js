// The live school dashboard: a reference client of the GraphQL API.
// - Token: pasted into the sign-in form (or handed over in the link's #token= fragment,
//   which never reaches a server and is removed at once), kept in sessionStorage only.
// - Live: graphql-transport-ws (the vendored graphql-ws client). After a dropped connection
//   it reconnects with backoff and resubscribes with `since` (the last event it saw), so the
//   feed shows what happened meanwhile, once; RESUME_EXPIRED makes it refetch instead.
// - Nothing of a student is logged or put in a URL.

const TOKEN_KEY = "schoolgraph.token";
const $ = (id) => document.getElementById(id);

const DASHBOARD = `subscription Dashboard($scope: ScopeInput) { dashboard(scope: $scope) {
  incidentsToday { positive negative neutral } housePointsToday
  attendanceRateToday attendanceRateWeek studentsByTier { tier count } openInterventions } }`;
const FEED = `subscription Feed($scope: ScopeInput, $since: ID) {
  incidentLogged(scope: $scope, since: $since) { id incident { id kind category strikeLevel
  consequenceText occurredAt student { id name classCode } } } }`;
const RISK = `subscription Risk($scope: ScopeInput, $since: ID) {
  riskChanged(scope: $scope, since: $since) { id tier previousTier student { id } } }`;
const AT_RISK = `query AtRisk($after: String) { atRiskStudents(minTier: 2, first: 100,
  after: $after) { edges { node { id name classCode yearGroup riskTier
  risk { factors { indicator value threshold } } } } pageInfo { hasNextPage endCursor } } }`;
const SCOPES = `query Scopes($after: String) { students(first: 100, after: $after) {
  edges { node { classCode yearGroup } } pageInfo { hasNextPage endCursor } } }`;
const TREND = `query Trend($scope: ScopeInput) { dashboardTrend(scope: $scope, days: 28) {
  day attendanceRate negativeIncidents } }`;
const CARD = `query Card($id: ID!) { node(id: $id) { ... on Student { name classCode yearGroup
  riskTier attendanceSummary { rate daysAbsent tardies }
  latestDiagnostics { subject scaleScore placement }
  incidents(first: 5) { edges { node { id kind category occurredAt } } } } } }`;

const state = {
  client: null,
  subscriptions: [],
  scope: null,
  feedSince: null,
  riskSince: null,
  seen: new Set(),
  connectedOnce: false,
};

// -- token --------------------------------------------------------------------------------

function takeTokenFromLink() {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (match) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
}

const token = () => sessionStorage.getItem(TOKEN_KEY);

function showSignIn(message) {
  $("board").hidden = true;
  $("sign-out").hidden = true;
  $("sign-in").hidden = false;
  $("sign-in-error").textContent = message || "";
  setStatus("offline");
}

// -- HTTP ---------------------------------------------------------------------------------

async function query(document, variables = {}) {
  const response = await fetch("/graphql", {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token()}` },
    body: JSON.stringify({ query: document, variables }),
  });
  if (response.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    showSignIn("That token was not accepted: paste a current one.");
    throw new Error("unauthorised");
  }
  const body = await response.json();
  if (body.errors) throw new Error(body.errors.map((e) => e.message).join("; "));
  return body.data;
}

// Every node of a connection, page by page (pages hold at most 100).
async function all(document, field, pages = 50) {
  const nodes = [];
  let after = null;
  for (let i = 0; i < pages; i++) {
    const page = (await query(document, { after }))[field];
    nodes.push(...page.edges.map((e) => e.node));
    if (!page.pageInfo.hasNextPage) break;
    after = page.pageInfo.endCursor;
  }
  return nodes;
}

// -- live ---------------------------------------------------------------------------------

function setStatus(text) {
  $("status").textContent = text;
  document.body.classList.remove("live", "reconnecting", "offline");
  document.body.classList.add(text);
}

function connect() {
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`;
  state.client = window.graphqlWs.createClient({
    url,
    lazy: false,
    keepAlive: 10000,
    retryAttempts: Infinity,
    shouldRetry: () => true,
    // Backoff: 0.5 s, 1 s, 2 s … at most 10 s, with jitter.
    retryWait: (retries) =>
      new Promise((resolve) =>
        setTimeout(resolve, Math.min(10000, 500 * 2 ** retries) * (0.8 + Math.random() * 0.4)),
      ),
    connectionParams: () => ({ Authorization: `Bearer ${token()}` }),
    on: {
      connecting: () => setStatus(state.connectedOnce ? "reconnecting" : "offline"),
      connected: () => {
        state.connectedOnce = true;
        setStatus("live");
        subscribeAll(); // after a reconnect: resume each feed after what it saw
      },
      closed: (event) => {
        dropSubscriptions();
        if (event && event.code === 4403) {
          state.client.dispose(); // a refused token: stop retrying with it
          state.client = null;
          state.connectedOnce = false;
          sessionStorage.removeItem(TOKEN_KEY);
          showSignIn("That token may not read this school's dashboard.");
          return;
        }
        setStatus(state.connectedOnce ? "reconnecting" : "offline");
      },
    },
  });
}

function dropSubscriptions() {
  for (const dispose of state.subscriptions) dispose();
  state.subscriptions = [];
}

function subscribe(document, variables, onData, onError) {
  const dispose = state.client.subscribe(
    { query: document, variables },
    {
      next: (message) => {
        if (message.errors) onError(message.errors);
        else onData(message.data);
      },
      error: (error) => onError(Array.isArray(error) ? error : [error]),
      complete: () => {},
    },
  );
  state.subscriptions.push(dispose);
}

function expired(errors) {
  return errors.some((e) => e && e.extensions && e.extensions.code === "RESUME_EXPIRED");
}

function subscribeAll() {
  dropSubscriptions();
  const scope = state.scope;
  subscribe(DASHBOARD, { scope }, (data) => renderTiles(data.dashboard), () => {});
  subscribe(
    FEED,
    { scope, since: state.feedSince },
    (data) => {
      state.feedSince = data.incidentLogged.id;
      addFeedItem(data.incidentLogged.incident);
    },
    (errors) => {
      if (expired(errors)) {
        state.feedSince = null; // too far behind: start afresh (the tiles refetch anyway)
        subscribeAll();
      }
    },
  );
  subscribe(
    RISK,
    { scope, since: state.riskSince },
    (data) => {
      state.riskSince = data.riskChanged.id;
      refreshAtRisk();
    },
    (errors) => {
      if (expired(errors)) {
        state.riskSince = null;
        refreshAtRisk();
        subscribeAll();
      }
    },
  );
  refreshAtRisk();
  refreshTrend();
}

// -- rendering ----------------------------------------------------------------------------

const percent = (rate) => (rate === null || rate === undefined ? "–" : `${(rate * 100).toFixed(1)}%`);

function renderTiles(d) {
  const set = (id, value) => {
    document.querySelector(`[data-testid="${id}"]`).textContent = String(value);
  };
  set("kpi-incidents-negative", d.incidentsToday.negative);
  set("kpi-incidents-positive", d.incidentsToday.positive);
  set("kpi-incidents-neutral", d.incidentsToday.neutral);
  set("kpi-house-points", d.housePointsToday);
  set("kpi-attendance-today", percent(d.attendanceRateToday));
  set("kpi-attendance-week", percent(d.attendanceRateWeek));
  set("kpi-open-interventions", d.openInterventions);
  const tiers = { 1: 0, 2: 0, 3: 0 };
  for (const t of d.studentsByTier || []) tiers[t.tier] = t.count;
  for (const tier of [1, 2, 3]) set(`tier-count-${tier}`, tiers[tier]);
}

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, v);
  for (const child of children) node.append(child);
  return node;
}

function addFeedItem(incident) {
  if (!incident || state.seen.has(incident.id)) return; // once each, whatever replays
  state.seen.add(incident.id);
  const when = new Date(incident.occurredAt).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const strike = incident.strikeLevel ? ` · strike ${incident.strikeLevel}` : "";
  const consequence = incident.consequenceText ? ` · ${incident.consequenceText}` : "";
  const item = element(
    "li",
    { "data-testid": "feed-item", "data-incident-id": incident.id, class: incident.kind },
    element("strong", {}, incident.student ? incident.student.name : "A student"),
    ` ${incident.category}`,
    element("div", { class: "meta" }, `${incident.kind.toLowerCase()} · ${when}${strike}${consequence}`),
  );
  $("feed").prepend(item);
  while ($("feed").children.length > 200) $("feed").lastElementChild.remove();
}

function inScope(student) {
  const s = state.scope;
  if (!s) return true;
  if (s.classCode) return student.classCode === s.classCode;
  if (s.yearGroup !== undefined) return student.yearGroup === s.yearGroup;
  return true;
}

async function refreshAtRisk() {
  try {
    const students = await all(AT_RISK, "atRiskStudents");
    const list = $("at-risk");
    list.replaceChildren();
    for (const node of students) {
      if (!inScope(node)) continue;
      const factors = (node.risk ? node.risk.factors : [])
        .map((f) => f.indicator.replaceAll("_", " ").toLowerCase())
        .join(", ");
      const button = element(
        "button",
        { type: "button", "aria-label": `Open ${node.name}'s card` },
        element("strong", {}, node.name),
        ` tier ${node.riskTier}`,
        element("div", { class: "meta" }, `${node.classCode || ""}${factors ? " · " + factors : ""}`),
      );
      button.addEventListener("click", () => openCard(node.id));
      list.append(element("li", { "data-testid": "at-risk-item", "data-student-id": node.id }, button));
    }
  } catch (error) {
    /* shown by the connection state; the next change refetches */
  }
}

async function refreshTrend() {
  try {
    const data = await query(TREND, { scope: state.scope });
    drawTrend(data.dashboardTrend);
  } catch (error) {
    /* the chart stays as it was */
  }
}

function drawTrend(days) {
  const svg = $("trend");
  const W = 560, H = 140, pad = 20;
  const x = (i) => pad + (i * (W - 2 * pad)) / Math.max(1, days.length - 1);
  const maxIncidents = Math.max(1, ...days.map((d) => d.negativeIncidents));
  const ns = "http://www.w3.org/2000/svg";
  svg.replaceChildren();
  days.forEach((d, i) => {
    const h = ((H - 2 * pad) * d.negativeIncidents) / maxIncidents;
    const bar = document.createElementNS(ns, "rect");
    bar.setAttribute("x", String(x(i) - 4));
    bar.setAttribute("y", String(H - pad - h));
    bar.setAttribute("width", "8");
    bar.setAttribute("height", String(h));
    bar.setAttribute("fill", "#c0392b");
    bar.setAttribute("opacity", "0.6");
    svg.append(bar);
  });
  const points = days
    .map((d, i) => (d.attendanceRate === null ? null : `${x(i)},${H - pad - (H - 2 * pad) * d.attendanceRate}`))
    .filter(Boolean);
  if (points.length) {
    const line = document.createElementNS(ns, "polyline");
    line.setAttribute("points", points.join(" "));
    line.setAttribute("fill", "none");
    line.setAttribute("stroke", "#2457d6");
    line.setAttribute("stroke-width", "2");
    svg.append(line);
  }
}

async function openCard(id) {
  const data = await query(CARD, { id });
  const s = data.node;
  if (!s) return;
  $("card-name").textContent = `${s.name} · ${s.classCode || ""} · tier ${s.riskTier}`;
  const body = $("card-body");
  body.replaceChildren();
  const a = s.attendanceSummary;
  body.append(
    element(
      "p",
      {},
      `Attendance ${percent(a ? a.rate : null)}, ${a ? Number(a.daysAbsent.toFixed(1)) : 0} days absent, ${a ? a.tardies : 0} late`,
    ),
  );
  const diagnostics = (s.latestDiagnostics || []).map((d) => `${d.subject}: ${d.placement || d.scaleScore || "–"}`);
  if (diagnostics.length) body.append(element("p", {}, `Latest diagnostics: ${diagnostics.join("; ")}`));
  const recent = element("ul", {});
  for (const { node } of s.incidents.edges) {
    recent.append(element("li", {}, `${node.occurredAt.slice(0, 10)} ${node.kind.toLowerCase()} ${node.category}`));
  }
  body.append(element("h3", {}, "Recent incidents"), recent);
  $("card").hidden = false;
  $("card-close").focus();
}

async function fillScopes() {
  try {
    const students = await all(SCOPES, "students");
    const years = new Set(), classes = new Set();
    for (const node of students) {
      if (node.yearGroup !== null) years.add(node.yearGroup);
      if (node.classCode) classes.add(node.classCode);
    }
    const picker = $("scope");
    for (const y of [...years].sort((a, b) => a - b)) {
      picker.append(element("option", { value: `year:${y}` }, `Year ${y}`));
    }
    for (const c of [...classes].sort()) picker.append(element("option", { value: `class:${c}` }, `Class ${c}`));
  } catch (error) {
    /* the whole school stays available */
  }
}

function pickScope(value) {
  if (!value) return null;
  const split = value.indexOf(":");
  const kind = value.slice(0, split), key = value.slice(split + 1);
  return kind === "year" ? { yearGroup: Number(key) } : { classCode: key };
}

// -- start --------------------------------------------------------------------------------

async function start() {
  $("sign-in").hidden = true;
  $("board").hidden = false;
  $("sign-out").hidden = false;
  await fillScopes();
  if (!token()) return; // a 401 there sent us back to the sign-in form
  connect();
}

$("sign-in").addEventListener("submit", (event) => {
  event.preventDefault();
  const value = $("token").value.trim();
  if (!value) return;
  sessionStorage.setItem(TOKEN_KEY, value);
  $("token").value = "";
  start();
});

$("sign-out").addEventListener("click", () => {
  sessionStorage.removeItem(TOKEN_KEY);
  if (state.client) state.client.dispose();
  location.reload();
});

$("scope").addEventListener("change", (event) => {
  state.scope = pickScope(event.target.value);
  state.feedSince = null;
  state.riskSince = null;
  state.seen.clear();
  $("feed").replaceChildren();
  if (state.client) subscribeAll();
});

$("card-close").addEventListener("click", () => {
  $("card").hidden = true;
});

takeTokenFromLink();
if (token()) start();
else showSignIn();
