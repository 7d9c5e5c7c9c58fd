// The status line every settings section shows: run an action, show the error it ended in or
// the note it returned ("saved", "added …"). One place, so every section behaves the same.
import { ref } from "vue";

export function useStatus(explain = (err) => err.message) {
  const error = ref("");
  const notice = ref("");

  async function run(action) {
    error.value = notice.value = "";
    try {
      const note = await action();
      if (typeof note === "string") notice.value = note;
    } catch (err) {
      error.value = explain(err);
    }
  }

  return { error, notice, run };
}
