// A WebSocket that stays up: reconnects with backoff after a drop and tells the page, so the
// page can catch up over HTTP (the socket only says *that* something changed; state comes
// from the API, so a missed push never loses or repeats anything).
import { ref } from "vue";
import { session } from "./api.js";

// How the socket authenticates is this module's business (today the staff token as ?token=).
export function connectLive(path, { onEvent, onReconnect }) {
  const connected = ref(false);
  let socket = null;
  let closed = false;
  let attempt = 0;
  let everOpened = false;

  function url() {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    const token = session.value?.token;
    const query = token ? `?token=${encodeURIComponent(token)}` : "";
    return `${scheme}://${window.location.host}${path}${query}`;
  }

  function open() {
    if (closed) return;
    socket = new WebSocket(url());
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
    socket.onclose = () => {
      connected.value = false;
      if (closed) return;
      const delay = Math.min(10_000, 500 * 2 ** attempt++);
      window.setTimeout(open, delay);
    };
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
