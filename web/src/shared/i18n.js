// Tiny i18n for the staff pages: zh and en. The language comes from ?lang=, then the choice
// saved in localStorage, then the browser; `setLang` switches and remembers it.
import { ref } from "vue";

export const LANGS = ["zh", "en"];
const STORE_KEY = "kefu.lang";

function initialLang() {
  const fromQuery = new URLSearchParams(window.location.search).get("lang");
  if (LANGS.includes(fromQuery)) return fromQuery;
  const saved = window.localStorage.getItem(STORE_KEY);
  if (LANGS.includes(saved)) return saved;
  return (navigator.language || "zh").toLowerCase().startsWith("zh") ? "zh" : "en";
}

export const lang = ref(initialLang());

function applyLang(value) {
  document.documentElement.lang = value === "zh" ? "zh-CN" : "en";
}
applyLang(lang.value);

export function setLang(value) {
  if (!LANGS.includes(value)) return;
  lang.value = value;
  window.localStorage.setItem(STORE_KEY, value);
  applyLang(value);
}

// The strings every page shares; each page adds its own with `makeT`.
export const common = {
  zh: {
    username: "用户名",
    password: "密码",
    login: "登录",
    logout: "退出",
    loggingIn: "正在登录…",
    language: "语言",
    loading: "加载中…",
    retry: "重试",
    save: "保存",
    cancel: "取消",
    delete: "删除",
    search: "搜索",
    networkError: "网络连接中断，正在重连…",
    forbidden: "你的账号没有访问此页面的权限。",
  },
  en: {
    username: "Username",
    password: "Password",
    login: "Log in",
    logout: "Log out",
    loggingIn: "Logging in…",
    language: "Language",
    loading: "Loading…",
    retry: "Retry",
    save: "Save",
    cancel: "Cancel",
    delete: "Delete",
    search: "Search",
    networkError: "Connection lost, reconnecting…",
    forbidden: "Your account may not open this page.",
  },
};

// makeT(messages) -> t(key, params): looks in the page's messages, then the common ones;
// `{name}` placeholders are filled from params. Values are plain text: render with {{ }}.
export function makeT(messages) {
  return (key, params = {}) => {
    const table = { ...common[lang.value], ...(messages[lang.value] || {}) };
    const text = table[key] ?? common.en[key] ?? messages.en?.[key] ?? key;
    return text.replace(/\{(\w+)\}/g, (_, name) => (name in params ? String(params[name]) : `{${name}}`));
  };
}
