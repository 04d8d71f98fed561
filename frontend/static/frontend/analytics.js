// Search analytics from the storefront: which results shoppers click and add to the cart,
// sent to /api/v1/events/ with navigator.sendBeacon (it survives the page being left).
// Do Not Track (or Global Privacy Control) set: nothing is sent and no visitor id is kept.
// The visitor id is a random token in localStorage, never a login or an address.

const VISITOR_KEY = "visual-search-visitor";
const VISITOR_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;

export function trackingAllowed() {
  return navigator.doNotTrack !== "1" && window.doNotTrack !== "1" && navigator.globalPrivacyControl !== true;
}

function randomUuid() {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  // Not a secure context (plain http on a LAN address): build a version-4 UUID by hand.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function visitorId() {
  if (!trackingAllowed()) return "";
  try {
    let id = window.localStorage.getItem(VISITOR_KEY);
    if (!id || !VISITOR_PATTERN.test(id)) {
      id = `v-${randomUuid()}`;
      window.localStorage.setItem(VISITOR_KEY, id);
    }
    return id;
  } catch {
    return ""; // storage blocked: events go without a visitor id
  }
}

// Headers for a search request: the visitor id, when tracking is allowed.
export function visitorHeaders() {
  const id = visitorId();
  return id ? { "X-Visitor-Id": id } : {};
}

// One event: {kind, product_id, search_id, position?}. Returns whether it was handed over.
export function sendEvent(url, fields) {
  if (!trackingAllowed() || !url || !fields.search_id) return false;
  const event = { id: randomUuid(), ...fields };
  const visitor = visitorId();
  if (visitor) event.visitor_id = visitor;
  const body = new Blob([JSON.stringify({ events: [event] })], { type: "application/json" });
  try {
    return navigator.sendBeacon(url, body);
  } catch {
    return false; // never let analytics break the page
  }
}
