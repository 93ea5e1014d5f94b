// Laurel's GraphiQL: the credential is pasted once, kept in this browser's local storage, and
// sent as a header over HTTP and in connection_init over WebSocket, so queries, schema
// completion and subscriptions all work from the page.
(function () {
  "use strict";
  var STORE = "laurel.graphiql.credential";
  var credential = localStorage.getItem(STORE) || "";

  // An API key is <prefix>.<secret> (one dot); a user token is a JWT (two dots).
  function isToken(value) {
    return value.split(".").length === 3;
  }
  function headers(value) {
    if (!value) return {};
    return isToken(value) ? { Authorization: "Bearer " + value } : { "X-API-Key": value };
  }
  function connectionParams(value) {
    if (!value) return {};
    return isToken(value) ? { token: value } : { apiKey: value };
  }

  var form = document.getElementById("credential");
  var input = document.getElementById("credential-value");
  var state = document.getElementById("credential-state");
  state.textContent = credential
    ? (isToken(credential) ? "using a user token" : "using API key " + credential.split(".")[0])
    : "no credential: paste one to explore the schema";
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!input.value.trim()) return;
    localStorage.setItem(STORE, input.value.trim());
    location.reload();
  });
  document.getElementById("credential-forget").addEventListener("click", function () {
    localStorage.removeItem(STORE);
    location.reload();
  });

  var url = location.origin + "/graphql";
  var fetcher = GraphiQL.createFetcher({
    url: url,
    subscriptionUrl: url.replace(/^http/, "ws"),
    headers: headers(credential),
    wsConnectionParams: connectionParams(credential),
  });
  // `#query=...` opens the page on that document (a `?query=` would be run by GET instead).
  var query = new URLSearchParams(location.hash.slice(1)).get("query");
  var explorer = GraphiQLPluginExplorer.explorerPlugin();
  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      plugins: [explorer],
      query: query || undefined,
      defaultQuery: "{\n  metrics {\n    key\n    name\n  }\n}\n",
      defaultEditorToolsVisibility: false,
      isHeadersEditorEnabled: true,
    })
  );
})();
