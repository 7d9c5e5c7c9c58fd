// A WebSocket that stays up: reconnects with backoff after a drop and tells the page, so the
// page can catch up over HTTP (the socket only says *that* something changed; state comes
// from the API, so a missed push never loses or repeats anything).
import { ref } from "vue";
import { api, session } from "./api.js";

// How the socket authenticates is this module's business: before each (re)connect it asks for a
// one-time ticket (POST /api/auth/ws-ticket, valid 30 s), so the session token never goes into
// a URL (proxy logs, browser history).
export function connectLive(path, { onEvent, onReconnect }) {
  const connected = ref(false);
  let socket = null;
  let closed = false;
  let attempt = 0;
  let everOpened = false;

  async function url() {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    let query = "";
    if (session.value?.token) {
      const { ticket } = await api("/api/auth/ws-ticket", { method: "POST" });
      query = `?ticket=${encodeURIComponent(ticket)}`;
    }
    return `${scheme}://${window.location.host}${path}${query}`;
  }

  function retry() {
    connected.value = false;
    if (closed) return;
    const delay = Math.min(10_000, 500 * 2 ** attempt++);
    window.setTimeout(open, delay);
  }

  async function open() {
    if (closed) return;
    let target;
    try {
      target = await url();
    } catch {
      retry(); // no ticket (network, or the session ended: api.js then signs the page out)
      return;
    }
    if (closed) return;
    socket = new WebSocket(target);
    socket.onopen = () => {
      connected.value = true;
      attempt = 0;
      if (everOpened && onReconnect) onReconnect();
      everOpened = true;
    };
    socket.onmessage = (event) => {
      let data;
      try {
        data = JSON.parse(event.data);
      } catch {
        return;
      }
      onEvent?.(data);
    };
    socket.onclose = retry;
  }

  open();
  return {
    connected,
    send(data) {
      if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(data));
    },
    close() {
      closed = true;
      socket?.close();
    },
  };
}
