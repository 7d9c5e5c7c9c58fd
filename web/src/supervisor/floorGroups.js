// The skill groups the floor settings know, shared by the group, routing and hours editors:
// the group editor reloads them after a change, the others offer them in their selects.
import { ref } from "vue";
import { api } from "@shared/api.js";

export const groups = ref([]);
export const STEPS = ["sticky", "skill", "least_load"];

export async function loadGroups() {
  groups.value = (await api("/api/supervisor/settings/groups")).groups;
  return groups.value;
}
