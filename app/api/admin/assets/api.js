// Laurel's GraphQL API as the dashboard speaks it: the ADMIN key from session storage, errors
// sorted into those that name a field (shown beside it) and the rest (shown above the form).
const KEY = "laurel-admin-key";

export const storedKey = () => sessionStorage.getItem(KEY);
export const keepKey = (key) => sessionStorage.setItem(KEY, key);
export const forgetKey = () => sessionStorage.removeItem(KEY);

export class Refused extends Error {
  constructor(errors) {
    super(errors.map((e) => e.message).join("; "));
    this.errors = errors;
  }

  get code() {
    return this.errors[0]?.extensions?.code;
  }

  // {field: message} for errors that name one; the field is the input's path (trigger.metric.value).
  get byField() {
    const fields = {};
    for (const error of this.errors) {
      const field = error.extensions?.field;
      if (field && !(field in fields)) fields[field] = error.message;
    }
    return fields;
  }

  get general() {
    return this.errors.filter((e) => !e.extensions?.field).map((e) => e.message);
  }
}

async function answer(response) {
  let body;
  try {
    body = await response.json();
  } catch {
    throw new Refused([{ message: `the server answered ${response.status}` }]);
  }
  if (body.errors?.length) throw new Refused(body.errors);
  return body.data;
}

export async function gql(query, variables = {}, key = storedKey()) {
  const response = await fetch("/graphql", {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-API-Key": key || "" },
    body: JSON.stringify({ query, variables }),
  });
  return answer(response);
}

// A GraphQL multipart request (one file, as variables.file).
export async function upload(query, file) {
  const form = new FormData();
  form.append("operations", JSON.stringify({ query, variables: { file: null } }));
  form.append("map", JSON.stringify({ 0: ["variables.file"] }));
  form.append("0", file, file.name);
  const response = await fetch("/graphql", {
    method: "POST",
    headers: { "X-API-Key": storedKey() || "" },
    body: form,
  });
  return answer(response);
}
