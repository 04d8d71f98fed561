// Storefront: search by words, by a photo, or both, through the search API (/api/v1/search/).
// Plain ES module, no build step. The query and filters live in the URL so a search can be
// shared and reloaded; a photo cannot travel in a URL, so a reload says so and keeps the rest.

import { PhotoStage, parseCrop, renderLook } from "./regions.js";
import { sendEvent, visitorHeaders } from "./analytics.js";

const config = JSON.parse(document.getElementById("storefront-config").textContent);
const $ = (id) => document.getElementById(id);

const el = {
  main: $("main"),
  form: $("search-form"),
  q: $("q"),
  photoFile: $("photo-file"),
  photoCamera: $("photo-camera"),
  preview: $("photo-preview"),
  photoThumb: $("photo-thumb"),
  photoName: $("photo-name"),
  photoClear: $("photo-clear"),
  weightRow: $("weight-row"),
  weight: $("text-weight"),
  rerank: $("rerank"), // only there when re-ranking is enabled on the server
  filtersToggle: $("filters-toggle"),
  filters: $("filters"),
  filterForm: $("filter-form"),
  filterCount: $("filter-count"),
  filtersDone: $("filters-done"),
  clearFilters: $("clear-filters"),
  facetCategory: $("facet-category"),
  facetBrand: $("facet-brand"),
  facetColor: $("facet-color"),
  facetAttributes: $("facet-attributes"),
  facetPrice: $("facet-price"),
  priceMin: $("price-min"),
  priceMax: $("price-max"),
  inStock: $("in-stock"),
  results: $("results"),
  similarBanner: $("similar-banner"),
  similarThumb: $("similar-thumb"),
  similarTitle: $("similar-title"),
  similarBack: $("similar-back"),
  notices: $("notices"),
  understood: $("understood"),
  correctedLine: $("corrected-line"),
  correctedLink: $("corrected-link"),
  correctedText: $("corrected-text"),
  asTypedLink: $("as-typed-link"),
  chips: $("chips"),
  status: $("status"),
  error: $("error"),
  errorText: $("error-text"),
  errorRetry: $("error-retry"),
  intro: $("intro"),
  grid: $("grid"),
  loadMore: $("load-more"),
  dropOverlay: $("drop-overlay"),
  lookGroups: $("look-groups"),
};

const PAGE_SIZE = config.pageSize || 24;
const LOOK_ROW = 8; // results per detected item in "shop the look"
const FACET_VISIBLE = 8; // longer lists get a "show more" button
const SHRINK_ABOVE_BYTES = 2_000_000; // phone photos are often 3-8 MB; the model needs far less
const MAX_SIDE = 1600;

const state = {
  q: "",
  categories: [],
  brands: [],
  colors: [],
  attrs: [], // "name:value" terms of derived attributes (pattern, material...)
  priceMin: "",
  priceMax: "",
  inStock: false,
  rerank: false,
  similar: null, // product id (string) for "more like this"
  textWeight: 50, // percent of words in a words+photo search
  photo: null, // a File, in memory only
  asTyped: false, // the shopper chose "search instead for" their own words: no typo correction
  crop: null, // [x0, y0, x1, y1] of the photo, normalised (regions.js)
  look: false, // shop the look: one row of results per detected item
};

// The photo, large, with detected items to tap and a crop box to draw (regions.js).
const stage = new PhotoStage({
  root: $("photo-stage"),
  detectUrl: config.detectUrl,
  detectEnabled: config.detectEnabled,
  headers: () => csrfHeaders(),
  onCrop: (box) => searchRegion(box),
  onLook: () => {
    state.look = true;
    state.crop = null;
    stage.setBox(null);
    newSearch();
  },
  onWhole: () => {
    state.crop = null;
    state.look = false;
    newSearch();
  },
});
$("crop-keyboard").addEventListener("click", () => stage.startKeyboardBox());

let rememberedPhoto = null; // lets Back/Forward return to a photo search in this tab
let preparedUpload = null; // {photo, promise}: the (possibly shrunk) file sent for `photo`
let photoUrl = null;
let shown = 0; // results on screen
let lastTotal = 0;
let requestSeq = 0;
let inFlight = null;
let lastRun = null; // {append}: what "Try again" repeats
let currentUrl = window.location.search; // the search part of the URL on screen
let clientNotices = [];
let expandedFacets = new Set();
let facetsShown = false; // filters appear once a search has brought facet counts
const productInfo = new Map(); // product id -> {title, thumbnail_url}, for the similar banner

if (config.similarSource) {
  productInfo.set(String(config.similarSource.product_id), config.similarSource);
}

// ---------------------------------------------------------------- helpers

function cookie(name) {
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return "";
}

// The API is anonymous, but DRF's SessionAuthentication checks CSRF for a shopper who is
// also logged into the admin in this browser; the view sets the cookie, we echo it back.
function csrfHeaders() {
  const token = cookie("csrftoken");
  return token ? { "X-CSRFToken": token } : {};
}

const formatters = new Map();
function formatMoney(amount, currency, { whole = false } = {}) {
  const value = Number(amount);
  if (!currency) return whole ? String(Math.round(value)) : value.toFixed(2);
  const key = `${currency}|${whole}`;
  try {
    if (!formatters.has(key)) {
      formatters.set(key, new Intl.NumberFormat(undefined, {
        style: "currency", currency, ...(whole ? { maximumFractionDigits: 0, minimumFractionDigits: 0 } : {}),
      }));
    }
    return formatters.get(key).format(value);
  } catch {
    return `${value.toFixed(2)} ${currency}`;
  }
}

function titleCase(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}


function cleanPrice(raw) {
  if (raw === null || raw === undefined) return "";
  const text = String(raw).trim();
  return /^\d+(\.\d{1,2})?$/.test(text) ? text : "";
}

function node(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") element.className = value;
    else if (key === "text") element.textContent = value;
    else if (key in element && typeof value !== "string") element[key] = value;
    else element.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) element.append(child);
  }
  return element;
}

function activeFilterCount() {
  return state.categories.length + state.brands.length + state.colors.length + state.attrs.length + (state.priceMin || state.priceMax ? 1 : 0) + (state.inStock ? 1 : 0);
}

function hasQuery() {
  return Boolean(state.similar || state.q || state.photo);
}

// ---------------------------------------------------------------- URL <-> state

function readUrl() {
  const params = new URLSearchParams(window.location.search);
  const similar = params.get("similar");
  const weight = Number.parseInt(params.get("tw") ?? "", 10);
  state.q = (params.get("q") || "").slice(0, config.maxTextLength);
  state.categories = [...new Set(params.getAll("category").filter(Boolean))];
  state.brands = [...new Set(params.getAll("brand").filter(Boolean))];
  state.colors = [...new Set(params.getAll("color").filter(Boolean))];
  state.attrs = [...new Set(params.getAll("attr").filter((term) => /^[^:]+:.+$/.test(term)))];
  state.priceMin = cleanPrice(params.get("price_min"));
  state.priceMax = cleanPrice(params.get("price_max"));
  state.inStock = ["1", "true"].includes(params.get("in_stock"));
  state.asTyped = params.get("typed") === "1";
  state.rerank = Boolean(config.rerankEnabled) && params.get("rerank") === "1";
  state.similar = similar && /^\d+$/.test(similar) ? similar : null;
  state.textWeight = Number.isFinite(weight) ? Math.min(100, Math.max(0, weight)) : 50;
  const hadPhoto = params.get("photo") === "1";
  // Back/Forward inside this tab can still use the photo; a fresh load cannot.
  state.photo = hadPhoto && rememberedPhoto ? rememberedPhoto : null;
  state.crop = state.photo ? parseCrop(params.get("crop")) : null;
  state.look = Boolean(state.photo) && !state.crop && params.get("look") === "1";
  return { photoLost: hadPhoto && !state.photo };
}

function urlFor() {
  const params = new URLSearchParams();
  if (state.q) params.set("q", state.q);
  if (state.similar) params.set("similar", state.similar);
  for (const value of state.categories) params.append("category", value);
  for (const value of state.brands) params.append("brand", value);
  for (const value of state.colors) params.append("color", value);
  for (const term of state.attrs) params.append("attr", term);
  if (state.priceMin) params.set("price_min", state.priceMin);
  if (state.priceMax) params.set("price_max", state.priceMax);
  if (state.inStock) params.set("in_stock", "1");
  if (state.asTyped && state.q) params.set("typed", "1");
  if (!state.similar) {
    if (state.rerank) params.set("rerank", "1");
    if (state.photo) {
      params.set("photo", "1"); // a marker only: the photo itself stays in this tab
      if (state.q) params.set("tw", String(state.textWeight));
      if (state.crop) params.set("crop", state.crop.join(","));
      if (state.look) params.set("look", "1");
    }
  }
  const query = params.toString();
  return query ? `${window.location.pathname}?${query}` : window.location.pathname;
}

function similarHref(id) {
  const current = state.similar;
  state.similar = id;
  const url = urlFor();
  state.similar = current;
  return url;
}

function pushUrl() {
  const url = urlFor();
  if (url === `${window.location.pathname}${window.location.search}`) return;
  const depth = (window.history.state?.depth ?? 0) + 1;
  window.history.pushState({ depth }, "", url);
  currentUrl = window.location.search;
}

// ---------------------------------------------------------------- controls <-> state

function syncControls() {
  el.q.value = state.q;
  el.weight.value = String(state.textWeight);
  describeWeight();
  if (el.rerank) el.rerank.checked = state.rerank;
  el.priceMin.value = state.priceMin;
  el.priceMax.value = state.priceMax;
  el.inStock.checked = state.inStock;
  showPhoto();
  updateWeightRow();
  updateFilterCount();
}

function describeWeight() {
  const words = Number(el.weight.value);
  el.weight.setAttribute("aria-valuetext", `${words}% words, ${100 - words}% photo`);
}

function updateWeightRow() {
  el.weightRow.hidden = !(state.photo && el.q.value.trim());
}

function updateFilterCount() {
  const count = activeFilterCount();
  el.filterCount.hidden = count === 0;
  el.filterCount.textContent = String(count);
  el.filterCount.setAttribute("aria-label", `${count} active`);
  el.clearFilters.hidden = count === 0;
}

function showPhoto() {
  if (state.photo) stage.show(state.photo, state.crop);
  else stage.hide();
  if (!state.photo) {
    el.preview.hidden = true;
    if (photoUrl) URL.revokeObjectURL(photoUrl);
    photoUrl = null;
    el.photoThumb.removeAttribute("src");
    return;
  }
  if (photoUrl) URL.revokeObjectURL(photoUrl);
  photoUrl = URL.createObjectURL(state.photo);
  el.photoThumb.hidden = false;
  el.photoThumb.src = photoUrl;
  el.photoName.textContent = state.photo.name || "Pasted image";
  el.preview.hidden = false;
}

el.photoThumb.addEventListener("error", () => {
  el.photoThumb.hidden = true; // not an image the browser can show; the API will say why
});

// ---------------------------------------------------------------- the request

async function prepareUpload(file) {
  if (file.size <= SHRINK_ABOVE_BYTES || !/^image\/(jpeg|png|webp)$/.test(file.type) || !("createImageBitmap" in window)) {
    return file;
  }
  try {
    const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
    const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.9));
    if (!blob || blob.size >= file.size) return file;
    const stem = (file.name || "photo").replace(/\.[^.]+$/, "");
    return new File([blob], `${stem}.jpg`, { type: "image/jpeg" });
  } catch {
    return file; // let the server judge it and explain
  }
}

function uploadFor(photo) {
  if (!preparedUpload || preparedUpload.photo !== photo) {
    preparedUpload = { photo, promise: prepareUpload(photo) };
  }
  return preparedUpload.promise;
}

function filtersPayload() {
  const filters = {};
  if (state.categories.length) filters.category = state.categories;
  if (state.brands.length) filters.brand = state.brands;
  if (state.colors.length) filters.color = state.colors;
  if (state.attrs.length) filters.attributes = attributeFilters();
  if (state.priceMin) filters.price_min = state.priceMin;
  if (state.priceMax) filters.price_max = state.priceMax;
  if (state.inStock) filters.in_stock = true;
  return filters;
}

async function buildRequest(offset) {
  if (state.similar) {
    const params = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(offset) });
    for (const value of state.categories) params.append("category", value);
    for (const value of state.brands) params.append("brand", value);
    for (const value of state.colors) params.append("color", value);
    if (state.priceMin) params.set("price_min", state.priceMin);
    if (state.priceMax) params.set("price_max", state.priceMax);
    if (state.inStock) params.set("in_stock", "true");
    const url = `${config.similarUrl.replace("{id}", encodeURIComponent(state.similar))}?${params}`;
    return [url, { headers: { Accept: "application/json", ...visitorHeaders() } }];
  }
  const rerank = Boolean(state.rerank && offset === 0);
  if (state.photo) {
    const body = new FormData();
    body.append("image", await uploadFor(state.photo));
    if (state.q) {
      body.append("text", state.q);
      body.append("text_weight", String(state.textWeight / 100));
    }
    body.append("filters", JSON.stringify(filtersPayload()));
    body.append("limit", String(state.look ? LOOK_ROW : PAGE_SIZE)); // a look: a row per item
    body.append("offset", String(offset));
    body.append("rerank", rerank && !state.look ? "true" : "false");
    if (state.q && state.asTyped) body.append("typo_tolerance", "false");
    if (state.crop) body.append("crop", state.crop.join(","));
    if (state.look) body.append("look", "true");
    return [config.searchUrl, { method: "POST", body, headers: { Accept: "application/json", ...csrfHeaders(), ...visitorHeaders() } }];
  }
  const fields = { text: state.q, filters: filtersPayload(), limit: PAGE_SIZE, offset, rerank };
  // Only when the shopper asked for their words as typed: the API corrects by default.
  if (state.asTyped) fields.typo_tolerance = false;
  const body = JSON.stringify(fields);
  return [config.searchUrl, {
    method: "POST", body, headers: { "Content-Type": "application/json", Accept: "application/json", ...csrfHeaders(), ...visitorHeaders() },
  }];
}

async function runSearch({ append = false } = {}) {
  lastRun = { append };
  const seq = ++requestSeq;
  inFlight?.abort();
  const controller = new AbortController();
  inFlight = controller;
  const offset = append ? shown : 0;
  setLoading(append);

  let response;
  let body = null;
  try {
    const [url, init] = await buildRequest(offset);
    if (seq !== requestSeq) return;
    response = await fetch(url, { ...init, signal: controller.signal, credentials: "same-origin" });
    body = await response.json().catch(() => null);
  } catch (error) {
    if (error.name === "AbortError") return;
    if (seq !== requestSeq) return;
    showError("The search service could not be reached. Check your connection and try again.", append, { retry: true });
    return;
  }
  if (seq !== requestSeq) return;
  inFlight = null;
  if (!response.ok) {
    const detail = body && typeof body.detail === "string" ? body.detail : "";
    // Asking again helps when the server was busy or down, not when the request was refused.
    const retry = response.status >= 500 || response.status === 429;
    showError(detail || `The server answered with error ${response.status}.`, append, { retry });
    return;
  }
  render(body, append);
}

// ---------------------------------------------------------------- rendering

function setLoading(append) {
  el.error.hidden = true;
  el.main.classList.remove("no-results");
  el.intro.hidden = true;
  if (append) {
    el.loadMore.disabled = true;
    el.loadMore.textContent = "Loading more…";
    return;
  }
  el.grid.setAttribute("aria-busy", "true");
  el.grid.classList.add("loading");
  el.loadMore.hidden = true;
  el.status.textContent = state.photo ? "Searching with your photo…" : "Searching…";
  renderSimilarBanner();
  renderNotices([]);
  el.understood.hidden = true;
}

function showError(message, append, { retry = false } = {}) {
  el.grid.removeAttribute("aria-busy");
  el.grid.classList.remove("loading");
  el.loadMore.disabled = false;
  el.loadMore.textContent = "Load more";
  if (!append) {
    el.grid.replaceChildren();
    shown = 0;
    el.loadMore.hidden = true;
    el.status.textContent = "";
  }
  el.errorText.replaceChildren(node("strong", { text: "That search did not work." }), message);
  el.errorRetry.hidden = !retry;
  el.error.hidden = false;
  // Filters without counts are no use; but after a filter caused the error, keep them to undo it.
  el.main.classList.toggle("no-results", !facetsShown && !append);
}

function renderNotices(serverNotices) {
  const lines = [...clientNotices, ...serverNotices];
  el.notices.replaceChildren(...lines.map((line) => node("p", { class: "notice", text: line })));
}

function renderSimilarBanner() {
  el.similarBanner.hidden = !state.similar;
  if (!state.similar) return;
  const info = productInfo.get(state.similar);
  el.similarTitle.textContent = info ? info.title : `item ${state.similar}`;
  if (info?.thumbnail_url) {
    el.similarThumb.src = info.thumbnail_url;
    el.similarThumb.hidden = false;
  } else {
    el.similarThumb.hidden = true;
  }
}

function render(body, append) {
  el.lookGroups.hidden = true;
  if (body.query_type === "look") {
    renderLookPage(body);
    return;
  }
  el.grid.removeAttribute("aria-busy");
  el.grid.classList.remove("loading");
  el.loadMore.disabled = false;
  el.loadMore.textContent = "Load more";
  const results = body.results || [];
  for (const item of results) {
    productInfo.set(String(item.product_id), { title: item.title, thumbnail_url: item.thumbnail_url });
  }
  const first = append ? shown : 0; // positions count from the first page's first result
  const cards = results.map((item, i) => card(item, { searchId: body.search_id, position: first + i + 1 }));
  if (append) {
    el.grid.append(...cards);
    shown += results.length;
    cards[0]?.querySelector("a, button")?.focus();
  } else {
    el.grid.replaceChildren(...cards);
    shown = results.length;
    const notices = [...(body.notices || [])];
    if (state.rerank && !state.similar && !body.reranked && body.rerank_reason) {
      notices.push(`AI re-ranking did not run: ${body.rerank_reason}.`);
    }
    renderNotices(notices);
    renderUnderstood(body);
    renderFacets(body.facets || {}, results);
  }
  lastTotal = body.total ?? shown;
  el.filtersDone.textContent = lastTotal === 1 ? "Show 1 result" : `Show ${lastTotal} results`;
  renderStatus(body);
  el.loadMore.hidden = !(results.length === PAGE_SIZE && shown < lastTotal);
}

// What the search made of the words: the corrected query (with the way back to the words as
// typed) and a recognised category offered as a one-click filter, never applied unasked.
function renderUnderstood(body) {
  const corrected = !state.similar && body.corrected ? body.corrected : "";
  el.correctedLine.hidden = !corrected;
  if (corrected) {
    el.correctedText.textContent = corrected;
    el.asTypedLink.textContent = state.q;
  }
  const categories = state.similar
    ? []
    : ((body.recognised && body.recognised.category) || []).filter((value) => !state.categories.includes(value));
  el.chips.replaceChildren(...categories.map((category) => node("button", {
    type: "button", class: "chip", "data-category": category, text: `Only ${titleCase(category)}`,
    "aria-label": `Show only ${titleCase(category)}`,
  })));
  el.chips.hidden = categories.length === 0;
  el.understood.hidden = el.correctedLine.hidden && el.chips.hidden;
}

function renderStatus(body) {
  if (shown === 0) {
    const reason = activeFilterCount()
      ? "No products match these filters."
      : state.similar
        ? "No similar products were found."
        : "Nothing matched. Try other words or a different photo.";
    const parts = [node("strong", { text: "No results. " }), reason];
    if (activeFilterCount()) {
      const clear = node("button", { type: "button", class: "link-btn", text: "Clear filters" });
      clear.addEventListener("click", clearFilters);
      parts.push(" ", clear);
    }
    el.status.replaceChildren(node("p", { class: "empty" }, ...parts));
    return;
  }
  // Vector search ranks every product that passes the filters, so the count is of those
  // products ("in this selection"), and the words describe the ranking, not a match count.
  const what = state.similar
    ? "Most similar products"
    : state.photo && state.q
      ? `Best matches for your photo and “${body.corrected || state.q}”`
      : state.photo
        ? "Best matches for your photo"
        : `Best matches for “${body.corrected || state.q}”`;
  const line = node("p", {},
    node("strong", { text: what }),
    node("span", { class: "muted" },
      ` · showing ${shown} of `,
      node("span", { id: "result-count", text: String(lastTotal) }),
      " products"),
  );
  const pieces = [line];
  if (body.reranked) {
    pieces.push(node("p", { class: "ai-note" },
      node("span", { class: "ai-badge", text: "Ordered by AI" }),
      ` The top results were re-ranked by ${body.rerank_model || "a vision-language model"}.`));
  }
  el.status.replaceChildren(...pieces);
}

function card(item, { searchId = "", position = 0 } = {}) {
  const id = String(item.product_id);
  const media = item.thumbnail_url
    ? node("img", { src: item.thumbnail_url, alt: item.title, loading: "lazy", decoding: "async", width: "320", height: "320" })
    : node("div", { class: "no-image", role: "img", "aria-label": item.title, text: "No image" });
  const similar = node("a", {
    class: "btn btn-outline btn-small similar-link",
    href: similarHref(id), // a real link: it also opens in a new tab
    "data-product-id": id,
    "aria-label": `Similar items to ${item.title}`,
  }, "Similar items");
  const meta = [item.brand, item.merchant_name || ""].filter(Boolean).join(" · ");
  const addToCart = node("button", {
    type: "button",
    class: "btn btn-primary btn-small add-to-cart",
    "aria-pressed": "false",
    "aria-label": `Add ${item.title} to cart`,
  }, "Add to cart");
  return node("li", { class: "card", "data-product-id": id, "data-search-id": searchId || "", "data-position": String(position) },
    node("div", { class: "card-media" }, media,
      item.reranked_by ? node("span", { class: "ai-badge on-image", title: `Re-ranked by ${item.reranked_by}`, text: "Ordered by AI" }) : null),
    node("div", { class: "card-body" },
      node("div", { class: "card-info" },
        node("h3", { class: "card-title", text: item.title }),
        node("p", { class: "card-price", text: formatMoney(item.price, item.currency) }),
        meta ? node("p", { class: "card-meta muted", text: meta }) : null,
        item.in_stock ? null : node("p", { class: "stock-out", text: "Out of stock" }),
      ),
      node("div", { class: "card-actions" }, similar, addToCart),
    ),
  );
}

// ---------------------------------------------------------------- facets

function focusedFilter() {
  const active = document.activeElement;
  if (!active || !el.filters.contains(active) || active.tagName !== "INPUT" || !active.name) return null;
  return { name: active.name, value: active.value, facet: active.closest("fieldset")?.id };
}

function restoreFocus(saved) {
  if (!saved || saved.name === "price_min" || saved.name === "price_max") return;
  const match = [...el.filterForm.querySelectorAll(`input[name="${saved.name}"]`)].find((input) => input.value === saved.value);
  (match || document.getElementById(saved.facet)?.querySelector("input"))?.focus();
}

function renderFacets(facets, results) {
  const saved = focusedFilter();
  renderChoiceFacet(el.facetCategory, "category", facets.category || {}, state.categories, titleCase);
  renderChoiceFacet(el.facetColor, "color", facets.color || {}, state.colors, titleCase, swatch);
  renderAttributeFacets(facets.attributes || {});
  renderChoiceFacet(el.facetBrand, "brand", facets.brand || {}, state.brands, (text) => text);
  const currencies = new Set(results.map((item) => item.currency));
  renderPriceFacet(facets.price || [], currencies.size === 1 ? [...currencies][0] : "");
  facetsShown = true;
  updateFilterCount();
  restoreFocus(saved);
}

function attributeFilters() {
  const grouped = {};
  for (const term of state.attrs) {
    const at = term.indexOf(":");
    (grouped[term.slice(0, at)] ||= []).push(term.slice(at + 1));
  }
  return grouped;
}

// One fieldset per derived attribute the results have (pattern, material, style...); values
// are "name:value" terms so that one input name serves them all.
function renderAttributeFacets(attributes) {
  const names = Object.keys(attributes).sort();
  const picked = attributeFilters();
  for (const name of Object.keys(picked)) if (!names.includes(name)) names.push(name);
  const fieldsets = names.map((name) => {
    const fieldset = node("fieldset", { class: "facet", "data-attribute": name },
      node("legend", { text: titleCase(name) }), node("div", { class: "options" }));
    const counts = Object.fromEntries(
      Object.entries(attributes[name] || {}).map(([value, count]) => [`${name}:${value}`, count]));
    const selected = state.attrs.filter((term) => term.startsWith(`${name}:`));
    renderChoiceFacet(fieldset, "attr", counts, selected, (term) => titleCase(term.slice(name.length + 1)));
    return fieldset;
  });
  el.facetAttributes.replaceChildren(...fieldsets);
}

// A colour's swatch. Its colour is set through the CSSOM, which the Content-Security-Policy
// allows (it refuses style attributes in markup); a name the palette lacks (a colour the
// merchant typed) gets a neutral pattern instead.
function swatch(value) {
  const hex = (config.colorSwatches || {})[value];
  const chip = node("span", { class: hex ? "swatch" : "swatch swatch-unknown", "aria-hidden": "true" });
  if (hex && /^#[0-9a-f]{6}$/i.test(hex)) chip.style.backgroundColor = hex;
  return chip;
}

function renderChoiceFacet(fieldset, name, counts, selected, label, decorate = null) {
  // Products without a brand (or category) count under "": no option a shopper could name.
  const entries = Object.entries(counts).filter(([value]) => value !== "");
  for (const value of selected) {
    if (!(value in counts)) entries.push([value, 0]);
  }
  entries.sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const picked = new Set(selected);
  // Selected values stay visible even beyond the cut, so they can be unticked.
  const expanded = expandedFacets.has(name);
  const visible = expanded ? entries : entries.filter(([value], index) => index < FACET_VISIBLE || picked.has(value));
  const options = visible.map(([value, count]) =>
    node("label", { class: "option" },
      node("input", { type: "checkbox", name, value, checked: picked.has(value) }),
      decorate ? decorate(value) : null,
      node("span", { class: "option-label", text: label(value) }),
      node("span", { class: "count", text: String(count), "aria-label": `${count} products` }),
    ));
  const container = fieldset.querySelector(".options");
  container.replaceChildren(...options);
  const hiddenCount = entries.length - visible.length;
  if (hiddenCount > 0 || expanded) {
    const more = node("button", { type: "button", class: "link-btn", "aria-expanded": String(expanded) },
      expanded ? "Show fewer" : `Show ${hiddenCount} more`);
    more.addEventListener("click", () => {
      if (expanded) expandedFacets.delete(name); else expandedFacets.add(name);
      renderChoiceFacet(fieldset, name, counts, selected, label, decorate);
      fieldset.querySelector(".link-btn")?.focus();
    });
    container.append(more);
  }
  fieldset.hidden = entries.length === 0;
}

function bandValue(band) {
  // Bands are [min, max); the API's price_max is inclusive, so stop a cent below.
  return { min: band.min > 0 ? band.min.toFixed(2) : "", max: band.max === null ? "" : (band.max - 0.01).toFixed(2) };
}

function sameAmount(a, b) {
  return (a === "" && b === "") || (a !== "" && b !== "" && Number(a).toFixed(2) === Number(b).toFixed(2));
}

function renderPriceFacet(bands, currency) {
  const container = el.facetPrice.querySelector(".options");
  const money = (amount) => formatMoney(amount, currency, { whole: true });
  const options = [];
  const anyPrice = !state.priceMin && !state.priceMax;
  options.push(node("label", { class: "option" },
    node("input", { type: "radio", name: "price_band", value: "", checked: anyPrice }),
    node("span", { class: "option-label", text: "Any price" })));
  for (const band of bands) {
    const value = bandValue(band);
    const selected = sameAmount(value.min, state.priceMin) && sameAmount(value.max, state.priceMax);
    if (band.count === 0 && !selected) continue;
    const text = band.max === null
      ? `${money(band.min)} and up`
      : band.min === 0 ? `Under ${money(band.max)}` : `${money(band.min)} – ${money(band.max)}`;
    options.push(node("label", { class: "option" },
      node("input", { type: "radio", name: "price_band", value: `${value.min}:${value.max}`, checked: selected }),
      node("span", { class: "option-label", text }),
      node("span", { class: "count", text: String(band.count), "aria-label": `${band.count} products` })));
  }
  container.replaceChildren(...options);
  el.priceMin.value = state.priceMin;
  el.priceMax.value = state.priceMax;
}

// ---------------------------------------------------------------- actions

function newSearch() {
  shown = 0;
  clientNotices = [];
  pushUrl();
  if (!hasQuery()) {
    showIntro();
    return;
  }
  runSearch();
}

function showIntro(message = "") {
  inFlight?.abort();
  requestSeq++;
  el.main.classList.add("no-results");
  el.intro.hidden = false;
  el.grid.replaceChildren();
  el.grid.removeAttribute("aria-busy");
  el.grid.classList.remove("loading");
  el.loadMore.hidden = true;
  el.error.hidden = true;
  el.similarBanner.hidden = true;
  el.understood.hidden = true;
  el.status.textContent = message;
  renderNotices([]);
}

function renderLookPage(body) {
  el.grid.removeAttribute("aria-busy");
  el.grid.classList.remove("loading");
  el.grid.replaceChildren();
  el.loadMore.hidden = true;
  const lookCard = (item, i) => card(item, { searchId: body.search_id, position: i + 1 });
  const found = renderLook(el.lookGroups, body, lookCard, searchRegion);
  shown = found;
  renderNotices(body.notices || []);
  // The look's own counts: a previous search's would describe other results.
  const results = body.groups.flatMap((group) => group.results);
  renderFacets(body.facets || {}, results);
  el.status.textContent = body.groups.length
    ? `Shop the look: ${body.groups.length === 1 ? "1 item" : `${body.groups.length} items`} found in your photo`
    : "No separate items were found in your photo.";
}

function searchRegion(box) {
  state.crop = box;
  state.look = false;
  stage.show(state.photo, state.crop);
  newSearch();
}

function setPhoto(file) {
  if (!file) return;
  state.photo = file;
  state.crop = null;
  state.look = false;
  rememberedPhoto = file;
  state.similar = null;
  state.q = el.q.value.trim();
  showPhoto();
  stage.detect(uploadFor(file));
  updateWeightRow();
  newSearch();
}

function clearPhoto() {
  state.photo = null;
  state.crop = null;
  state.look = false;
  rememberedPhoto = null;
  preparedUpload = null;
  showPhoto();
  updateWeightRow();
  state.q = el.q.value.trim();
  newSearch();
  el.q.focus();
}

function clearFilters() {
  state.categories = [];
  state.brands = [];
  state.colors = [];
  state.attrs = [];
  state.priceMin = "";
  state.priceMax = "";
  state.inStock = false;
  syncControls();
  newSearch();
}

function openSimilar(id) {
  state.similar = id;
  newSearch();
  el.results.focus({ preventScroll: true });
  el.results.scrollIntoView({ block: "start", behavior: "smooth" });
}

el.form.addEventListener("submit", (event) => {
  event.preventDefault();
  state.q = el.q.value.trim();
  state.similar = null;
  state.asTyped = false; // new words: correct them again
  if (!state.q && !state.photo) {
    el.status.textContent = "Type what you are looking for, or add a photo.";
    el.q.focus();
    return;
  }
  newSearch();
});

el.q.addEventListener("input", updateWeightRow);

el.asTypedLink.addEventListener("click", (event) => {
  event.preventDefault();
  state.asTyped = true;
  newSearch();
});

el.correctedLink.addEventListener("click", (event) => {
  event.preventDefault();
  state.q = el.correctedText.textContent;
  state.asTyped = false;
  el.q.value = state.q;
  newSearch();
});

el.chips.addEventListener("click", (event) => {
  const chip = event.target.closest("button[data-category]");
  if (!chip) return;
  state.categories = [...new Set([...state.categories, chip.dataset.category])];
  updateFilterCount();
  newSearch();
});

for (const input of [el.photoFile, el.photoCamera]) {
  input.addEventListener("change", () => {
    const file = input.files && input.files[0];
    input.value = ""; // choosing the same file again must fire `change` again
    setPhoto(file);
  });
}

el.photoClear.addEventListener("click", clearPhoto);

el.weight.addEventListener("input", describeWeight);
el.weight.addEventListener("change", () => {
  state.textWeight = Number(el.weight.value);
  if (state.photo && state.q) newSearch();
});

el.rerank?.addEventListener("change", () => {
  state.rerank = el.rerank.checked;
  if (!state.similar && (state.q || state.photo)) newSearch();
});

el.filterForm.addEventListener("change", (event) => {
  const input = event.target;
  if (["category", "brand", "color", "attr"].includes(input.name)) {
    const key = { category: "categories", brand: "brands", color: "colors", attr: "attrs" }[input.name];
    const list = state[key];
    state[key] = input.checked ? [...new Set([...list, input.value])] : list.filter((value) => value !== input.value);
  } else if (input.name === "price_band") {
    const [min, max] = input.value.split(":");
    state.priceMin = min || "";
    state.priceMax = max || "";
    el.priceMin.value = state.priceMin;
    el.priceMax.value = state.priceMax;
  } else if (input.name === "in_stock") {
    state.inStock = input.checked;
  } else {
    return; // the price boxes wait for Apply or Enter
  }
  updateFilterCount();
  if (hasQuery()) newSearch(); else pushUrl();
});

el.filterForm.addEventListener("submit", (event) => {
  event.preventDefault();
  state.priceMin = cleanPrice(el.priceMin.value);
  state.priceMax = cleanPrice(el.priceMax.value);
  el.priceMin.value = state.priceMin;
  el.priceMax.value = state.priceMax;
  updateFilterCount();
  if (hasQuery()) newSearch(); else pushUrl();
});

el.clearFilters.addEventListener("click", clearFilters);

el.filtersToggle.addEventListener("click", () => {
  const open = el.filtersToggle.getAttribute("aria-expanded") !== "true";
  el.filtersToggle.setAttribute("aria-expanded", String(open));
  el.filters.classList.toggle("open", open);
  if (open) el.filters.querySelector("input, button")?.focus();
});

function closeFilters() {
  el.filters.classList.remove("open");
  el.filtersToggle.setAttribute("aria-expanded", "false");
}

el.filtersDone.addEventListener("click", () => {
  closeFilters();
  el.results.scrollIntoView({ block: "start" });
  el.results.focus({ preventScroll: true });
});

el.filters.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && el.filters.classList.contains("open")) {
    closeFilters();
    el.filtersToggle.focus();
  }
});

// Clicks and add-to-carts on a result, for the shop's search analytics (analytics.js: nothing
// is sent under Do Not Track). Any click on a card counts as a click on that result.
function trackCard(event) {
  const cardNode = event.target.closest("li.card");
  if (!cardNode?.dataset.searchId) return;
  const fields = {
    search_id: cardNode.dataset.searchId,
    product_id: Number(cardNode.dataset.productId),
  };
  const cart = event.target.closest("button.add-to-cart");
  if (cart) {
    if (cart.getAttribute("aria-pressed") === "true") return;
    cart.setAttribute("aria-pressed", "true");
    cart.textContent = "Added ✓";
    sendEvent(config.eventsUrl, { ...fields, kind: "add_to_cart", quantity: 1 });
    return;
  }
  sendEvent(config.eventsUrl, { ...fields, kind: "click", position: Number(cardNode.dataset.position) });
}

el.grid.addEventListener("click", trackCard);
el.lookGroups.addEventListener("click", trackCard);

el.grid.addEventListener("click", (event) => {
  const link = event.target.closest("a.similar-link");
  if (!link || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey || event.button !== 0) return;
  event.preventDefault();
  openSimilar(link.dataset.productId);
});

el.similarBack.addEventListener("click", () => {
  if ((window.history.state?.depth ?? 0) > 0) {
    window.history.back();
    return;
  }
  state.similar = null;
  newSearch();
});

el.loadMore.addEventListener("click", () => runSearch({ append: true }));
el.errorRetry.addEventListener("click", () => runSearch(lastRun || {}));

window.addEventListener("popstate", () => {
  // The skip link changes only the #fragment: that is not a different search.
  if (window.location.search === currentUrl) return;
  currentUrl = window.location.search;
  const { photoLost } = readUrl();
  syncControls();
  startFromUrl(photoLost);
});

// Drag and drop a photo anywhere on the page.
let dragDepth = 0;
const carriesFiles = (event) => Array.from(event.dataTransfer?.types || []).includes("Files");
window.addEventListener("dragenter", (event) => {
  if (!carriesFiles(event)) return;
  dragDepth += 1;
  el.dropOverlay.hidden = false;
});
window.addEventListener("dragleave", (event) => {
  if (!carriesFiles(event)) return;
  dragDepth = Math.max(0, dragDepth - 1);
  if (dragDepth === 0) el.dropOverlay.hidden = true;
});
window.addEventListener("dragover", (event) => {
  if (carriesFiles(event)) event.preventDefault();
});
window.addEventListener("drop", (event) => {
  if (!carriesFiles(event)) return;
  event.preventDefault();
  dragDepth = 0;
  el.dropOverlay.hidden = true;
  setPhoto(event.dataTransfer.files[0]);
});

// Paste a photo (a screenshot, a copied image) anywhere; pasted text still goes where it goes.
document.addEventListener("paste", (event) => {
  const files = Array.from(event.clipboardData?.files || []).filter((file) => file.type.startsWith("image/"));
  if (!files.length) return;
  event.preventDefault();
  setPhoto(files[0]);
});

// ---------------------------------------------------------------- start

function startFromUrl(photoLost) {
  shown = 0;
  clientNotices = [];
  if (photoLost) {
    clientNotices.push(state.q
      ? "Photos are not saved in links, so these results use only your words and filters. Add the photo again to include it."
      : "Photos are not saved in links. Add your photo again to repeat this search.");
  }
  if (!hasQuery()) {
    showIntro();
    renderNotices([]);
    return;
  }
  runSearch();
}

const initial = readUrl();
window.history.replaceState({ depth: window.history.state?.depth ?? 0 }, "", window.location.href);
syncControls();
startFromUrl(initial.photoLost);
document.documentElement.classList.add("js-ready");
