// The API from the browser: same origin, JSON in and out, errors as ApiError with the
// server's message. Where reads are closed, an API key kept in localStorage goes as X-API-Key.

const KEY_STORAGE = "catalog.apiKey";

export class ApiError extends Error {
  constructor(status, message, detail) {
    super(message);
    this.status = status;
    this.detail = detail;
  }
}

export function apiKey() {
  return localStorage.getItem(KEY_STORAGE) || "";
}

export function setApiKey(key) {
  if (key) localStorage.setItem(KEY_STORAGE, key);
  else localStorage.removeItem(KEY_STORAGE);
}

/** A model id as a path: each segment encoded, the slashes kept (ids look like org/name). */
export function modelPath(id) {
  return id.split("/").map(encodeURIComponent).join("/");
}

/** GET (or POST with `body`) `path`; `params` skips empty values. Resolves to parsed JSON. */
export async function api(path, { params, body, signal } = {}) {
  const url = new URL(path, location.origin);
  for (const [name, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
  }
  const headers = { Accept: "application/json" };
  if (apiKey()) headers["X-API-Key"] = apiKey();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url, {
      method: body === undefined ? "GET" : "POST",
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "The API cannot be reached. Check your connection and retry.");
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const err = data && data.error;
    let message = err ? err.message : `The API answered ${response.status}.`;
    if (response.status === 401 || response.status === 403) {
      message += " Set an API key (top right) if this deployment requires one.";
    }
    throw new ApiError(response.status, message, err ? err.detail : null);
  }
  return data;
}
