// The HTTP API as the page uses it: the session cookie authenticates (the browser sends it;
// the page never sees the API key after signing in), and every state change carries the
// session's CSRF token.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let csrfToken = "";
let onSessionEnded = () => {};

export function whenSessionEnds(callback) {
  onSessionEnded = callback;
}

function headers(extra = {}) {
  return csrfToken ? { "X-CSRF-Token": csrfToken, ...extra } : extra;
}

async function failure(response) {
  let code = "http_error";
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = await response.json();
    code = body.error?.code ?? code;
    message = body.error?.message ?? message;
  } catch {
    // not JSON: keep the status line
  }
  const error = new ApiError(response.status, code, message);
  if (response.status === 401 && csrfToken) {
    csrfToken = "";
    onSessionEnded(error);
  }
  return error;
}

/** fetch() with the session's headers; throws ApiError for any error answer. */
export async function request(method, path, { json, form, signal } = {}) {
  const options = { method, headers: headers(), credentials: "same-origin", signal };
  if (json !== undefined) {
    options.headers = headers({ "Content-Type": "application/json" });
    options.body = JSON.stringify(json);
  } else if (form !== undefined) {
    options.body = form;
  }
  const response = await fetch(path, options);
  if (!response.ok) throw await failure(response);
  return response;
}

export async function getJson(path) {
  return (await request("GET", path)).json();
}

export async function signIn(apiKey) {
  const body = await (await request("POST", "/v1/session", { json: { api_key: apiKey } })).json();
  csrfToken = body.csrf_token;
  return body;
}

/** The current session (after a reload), or null when signed out. */
export async function resume() {
  const response = await fetch("/v1/session", { credentials: "same-origin" });
  if (response.status === 401) {
    const body = await response.json().catch(() => ({}));
    return { signedOut: true, code: body.error?.code, message: body.error?.message };
  }
  if (!response.ok) throw await failure(response);
  const body = await response.json();
  csrfToken = body.csrf_token;
  return body;
}

export async function signOut() {
  await request("DELETE", "/v1/session");
  csrfToken = "";
}
