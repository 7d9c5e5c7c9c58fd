// The Kefu HTTP API from the browser: bearer token from the staff session, JSON in and out,
// and every error as an ApiError carrying the service's stable code and human message.
import { ref } from "vue";

const TOKEN_KEY = "kefu.session";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function loadSession() {
  try {
    return JSON.parse(window.sessionStorage.getItem(TOKEN_KEY) || "null");
  } catch {
    return null;
  }
}

// {token, role, username} of the signed-in staff member, or null.
export const session = ref(loadSession());

export function setSession(value) {
  session.value = value;
  if (value) window.sessionStorage.setItem(TOKEN_KEY, JSON.stringify(value));
  else window.sessionStorage.removeItem(TOKEN_KEY);
}

export async function api(path, { method = "GET", body, headers = {}, raw = false } = {}) {
  const init = { method, headers: { ...headers } };
  if (session.value?.token) init.headers.Authorization = `Bearer ${session.value.token}`;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    throw new ApiError(0, "network_error", String(err?.message || err));
  }
  if (response.status === 401 && session.value) setSession(null); // expired or revoked
  if (!response.ok) {
    let code = `http_${response.status}`;
    let message = response.statusText;
    try {
      const payload = await response.json();
      code = payload?.error?.code || code;
      message = payload?.error?.message || message;
    } catch {
      /* not JSON */
    }
    throw new ApiError(response.status, code, message);
  }
  if (raw) return response;
  const type = response.headers.get("Content-Type") || "";
  return type.includes("application/json") ? response.json() : response.text();
}

export async function login(username, password) {
  const result = await api("/api/auth/login", { method: "POST", body: { username, password } });
  setSession({ token: result.token, role: result.role, username: result.username });
  return result;
}

export async function logout() {
  try {
    await api("/api/auth/logout", { method: "POST" });
  } finally {
    setSession(null);
  }
}

// Roles as the service grants them (handoff/auth.py ROLE_GRANTS).
const GRANTS = {
  agent: ["agent"],
  supervisor: ["agent", "supervisor"],
  editor: ["editor"],
  admin: ["agent", "supervisor", "editor", "admin"],
};

export function may(role) {
  return (GRANTS[session.value?.role] || []).includes(role);
}
