// The console's state: my conversations, the open one, presence. State always comes from the
// HTTP API; the agent WebSocket only says that something changed, so after a reconnect one
// re-read makes everything right again (nothing lost, nothing shown twice: messages are keyed
// by their stored id).
import { computed, reactive, ref, shallowRef } from "vue";
import { api } from "@shared/api.js";
import { connectLive } from "@shared/live.js";

export const desk = reactive({
  conversations: [],
  openId: null,
  open: null, // the transcript view of the open conversation
  customer: null, // the customer panel of the open conversation
  status: "offline",
  typingUntil: 0,
  error: "",
});
export const now = ref(Date.now());
const liveSocket = shallowRef(null);
let ticker = null;
// false while the agent socket is down (it reconnects by itself)
export const connected = computed(() => (liveSocket.value ? liveSocket.value.connected.value : true));

const path = (id, rest = "") => `/api/agent/conversations/${encodeURIComponent(id)}${rest}`;

export async function setStatus(status) {
  await api("/api/agent/status", { method: "PUT", body: { status } });
  desk.status = status;
}

export async function loadList() {
  const data = await api("/api/agent/conversations");
  desk.conversations = data.conversations;
}

export async function loadOpen() {
  const id = desk.openId;
  if (!id) return;
  try {
    const view = await api(path(id));
    if (desk.openId === id) desk.open = mergePending(view);
  } catch (err) {
    if (err.status === 404 && desk.openId === id) {
      desk.openId = null; // transferred away or closed by someone else
      desk.open = null;
      desk.customer = null;
    } else throw err;
  }
}

export async function openConversation(id) {
  desk.openId = id;
  desk.open = null;
  desk.customer = null;
  pending.length = 0;
  await loadOpen();
  const panel = await api(path(id, "/customer"));
  if (desk.openId === id) desk.customer = panel;
}

// Replies being sent: shown at once, replaced by the stored message once its id is known.
const pending = [];

function mergePending(view) {
  const stored = new Set(view.messages.map((m) => m.client_id).filter(Boolean));
  const ids = new Set(view.messages.map((m) => m.id));
  const left = pending.filter((p) => !ids.has(p.id) && !stored.has(p.client_id));
  pending.splice(0, pending.length, ...left);
  return { ...view, messages: [...view.messages, ...left] };
}

function clientId() {
  const bytes = new Uint8Array(12);
  window.crypto.getRandomValues(bytes);
  return "a" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// Send a reply (or a suggestion as it was offered, or edited); a network failure leaves the
// bubble marked failed with a retry that re-sends the same client_message_id (no duplicate).
export async function sendReply(text, suggestion = null) {
  const id = desk.openId;
  const item = { id: `pending-${clientId()}`, client_id: clientId(), sender: "agent", text, delivery: "sending" };
  pending.push(item);
  if (desk.open) desk.open.messages = [...desk.open.messages, item];
  await deliverPending(id, item, suggestion);
}

async function deliverPending(id, item, suggestion) {
  try {
    if (suggestion) {
      await api(path(id, "/suggestions/send"), {
        method: "POST",
        body: {
          text: item.text,
          source: suggestion.source,
          key: suggestion.key,
          edited: item.text.trim() !== suggestion.text.trim(),
        },
      });
    } else {
      await api(path(id, "/messages"), { method: "POST", body: { text: item.text, client_message_id: item.client_id } });
    }
    const at = pending.indexOf(item);
    if (at >= 0) pending.splice(at, 1);
  } catch (err) {
    item.delivery = "failed";
    item.error = err.message;
    item.retry = () => {
      item.delivery = "sending";
      return deliverPending(id, item, null);
    };
  }
  if (desk.openId === id) await loadOpen();
  await loadList();
}

export async function retryStored(message) {
  await api(path(desk.openId, `/messages/${message.id}/retry`), { method: "POST" }).catch((err) => {
    desk.error = err.message;
  });
  await loadOpen();
}

export async function addNote(text) {
  await api(path(desk.openId, "/notes"), { method: "POST", body: { text } });
  await loadOpen();
}

export async function transfer(target, note) {
  await api(path(desk.openId, "/transfer"), { method: "POST", body: { ...target, note } });
  desk.openId = null;
  desk.open = null;
  desk.customer = null;
  await loadList();
}

export async function closeOpen() {
  await api(path(desk.openId, "/close"), { method: "POST" });
  await loadOpen();
  await loadList();
}

export async function createTicket() {
  const data = await api(path(desk.openId, "/ticket"), { method: "POST", body: {} });
  desk.customer = await api(path(desk.openId, "/customer"));
  return data.ticket;
}

let lastTyping = 0;
export function typing() {
  const stamp = Date.now();
  if (!desk.openId || stamp - lastTyping < 3000) return;
  lastTyping = stamp;
  api(path(desk.openId, "/typing"), { method: "POST" }).catch(() => {});
}

// A short two-tone chime made on the spot (no sound file to ship).
function chime() {
  try {
    const ctx = new (window.AudioContext || window.webkitAudioContext)();
    [660, 880].forEach((freq, i) => {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.15, ctx.currentTime + i * 0.18);
      gain.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + i * 0.18 + 0.16);
      osc.connect(gain).connect(ctx.destination);
      osc.start(ctx.currentTime + i * 0.18);
      osc.stop(ctx.currentTime + i * 0.18 + 0.17);
    });
  } catch {
    /* no audio: the list still shows it */
  }
}

function notify(title, body) {
  if (!("Notification" in window) || Notification.permission !== "granted" || document.hasFocus()) return;
  try {
    new Notification(title, { body, tag: "kefu-assignment" });
  } catch {
    /* some browsers allow notifications only from a service worker */
  }
}

export function askNotificationPermission() {
  if ("Notification" in window && Notification.permission === "default") Notification.requestPermission();
}

async function refresh(conversationId) {
  try {
    await loadList();
    if (conversationId === desk.openId) await loadOpen();
  } catch (err) {
    desk.error = err.message;
  }
}

export function startLive(texts) {
  stopLive();
  let seconds = 0;
  ticker = window.setInterval(() => {
    now.value = Date.now();
    if (++seconds % 30 === 0) refresh(null); // a safety net; the socket does the real work
  }, 1000);
  liveSocket.value = connectLive("/api/agent/ws", {
    onEvent: async (event) => {
      const known = desk.conversations.some((c) => c.id === event.conversation_id);
      if (event.type === "customer_typing") {
        if (event.conversation_id === desk.openId) desk.typingUntil = Date.now() + 5000;
        return;
      }
      if (event.type === "queue_changed") return;
      if (event.type === "assigned" && !known) {
        chime();
        notify(texts.newAssignment, texts.newAssignmentBody);
      }
      if (event.type === "new_message" && event.conversation_id === desk.openId) desk.typingUntil = 0;
      await refresh(event.conversation_id);
      // The engine announces a claim a moment before SQL records it: read once more shortly.
      if (event.type === "assigned" || event.type === "transferred") {
        window.setTimeout(() => refresh(event.conversation_id), 1500);
      }
    },
    onReconnect: async () => {
      await loadList();
      await loadOpen();
    },
  });
}

export function stopLive() {
  liveSocket.value?.close();
  liveSocket.value = null;
  if (ticker) window.clearInterval(ticker);
  ticker = null;
}
