// The photo stage: the shopper's photo large, with the items a detector found as boxes to tap,
// and a crop box to drag and resize with a mouse, a finger or the keyboard. Boxes are
// normalised 0..1 in the photo as shown upright (browsers apply EXIF orientation, and the
// server crops the photo after applying it), so they go to the API unchanged.

const MIN_SIDE = 0.03; // a smaller box is a slip, not a selection (the API refuses < 0.02)
const KEY_STEP = 0.02;

const clamp = (value, low, high) => Math.min(high, Math.max(low, value));
const round = (value) => Math.round(value * 10000) / 10000;

export function boxToList(box) {
  return [box.x0, box.y0, box.x1, box.y1].map(round);
}

export function parseCrop(text) {
  const numbers = (text || "").split(",").map(Number);
  if (numbers.length !== 4 || numbers.some((n) => !Number.isFinite(n) || n < 0 || n > 1)) return null;
  const [x0, y0, x1, y1] = numbers;
  return x1 - x0 >= MIN_SIDE && y1 - y0 >= MIN_SIDE ? numbers : null;
}

function place(element, box) {
  element.style.left = `${box.x0 * 100}%`;
  element.style.top = `${box.y0 * 100}%`;
  element.style.width = `${(box.x1 - box.x0) * 100}%`;
  element.style.height = `${(box.y1 - box.y0) * 100}%`;
}

export class PhotoStage {
  constructor({ root, detectUrl, detectEnabled, headers, onCrop, onLook, onWhole }) {
    this.root = root;
    this.frame = root.querySelector(".stage-frame");
    this.image = root.querySelector(".stage-image");
    this.boxesLayer = root.querySelector(".stage-boxes");
    this.cropEl = root.querySelector(".crop-box");
    this.status = root.querySelector(".detect-status");
    this.lookButton = root.querySelector(".shop-look");
    this.wholeButton = root.querySelector(".crop-whole");
    this.detectUrl = detectUrl;
    this.detectEnabled = detectEnabled;
    this.headers = headers;
    this.onCrop = onCrop;
    this.box = null;
    this.drag = null;
    this.keyTimer = null;
    this.detectSeq = 0;
    this.url = null;
    this.frame.addEventListener("pointerdown", (event) => this.pointerDown(event));
    this.frame.addEventListener("pointermove", (event) => this.pointerMove(event));
    this.frame.addEventListener("pointerup", (event) => this.pointerUp(event));
    this.frame.addEventListener("pointercancel", () => this.cancelDrag());
    this.cropEl.addEventListener("keydown", (event) => this.keyDown(event));
    this.lookButton.addEventListener("click", () => onLook());
    this.wholeButton.addEventListener("click", () => {
      this.setBox(null);
      onWhole();
    });
  }

  // --- showing the photo and its detected items ------------------------------------------

  show(file, crop) {
    if (this.url) URL.revokeObjectURL(this.url);
    this.url = URL.createObjectURL(file);
    this.image.src = this.url;
    this.root.hidden = false;
    this.setBox(crop ? { x0: crop[0], y0: crop[1], x1: crop[2], y1: crop[3] } : null);
  }

  hide() {
    this.root.hidden = true;
    this.detectSeq++;
    if (this.url) URL.revokeObjectURL(this.url);
    this.url = null;
    this.image.removeAttribute("src");
    this.boxesLayer.replaceChildren();
    this.setBox(null);
  }

  async detect(uploadPromise) {
    const seq = ++this.detectSeq;
    this.boxesLayer.replaceChildren();
    this.lookButton.hidden = true;
    if (!this.detectEnabled) {
      this.say("Item detection is off on this server: drag on the photo to draw a box around what you want.");
      return;
    }
    this.say("Looking for items in your photo…");
    let response;
    let body = null;
    try {
      const form = new FormData();
      form.append("image", await uploadPromise);
      response = await fetch(this.detectUrl, {
        method: "POST", body: form, credentials: "same-origin", headers: { Accept: "application/json", ...this.headers() },
      });
      body = await response.json().catch(() => null);
    } catch {
      if (seq === this.detectSeq) this.say("Items could not be detected (no connection): drag on the photo to draw a box.");
      return;
    }
    if (seq !== this.detectSeq) return;
    if (!response.ok) {
      this.say(response.status === 503
        ? "Item detection is off on this server: drag on the photo to draw a box around what you want."
        : "Items could not be detected in this photo: drag on the photo to draw a box.");
      return;
    }
    const boxes = body.boxes || [];
    this.boxesLayer.replaceChildren(...boxes.map((found, index) => this.detectedButton(found, index)));
    this.lookButton.hidden = boxes.length === 0;
    this.say(boxes.length
      ? `Found ${boxes.length === 1 ? "1 item" : `${boxes.length} items`}: tap one to search it, shop the whole look, or drag to draw your own box.`
      : "No separate items found: drag on the photo to draw a box around what you want.");
  }

  detectedButton(found, index) {
    const [x0, y0, x1, y1] = found.box;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "detected";
    button.dataset.index = String(index);
    button.dataset.box = found.box.join(",");
    button.setAttribute("aria-label", `Search the ${found.label} (${Math.round(found.score * 100)}% sure)`);
    const tag = document.createElement("span");
    tag.className = "detected-label";
    tag.textContent = found.label;
    button.append(tag);
    place(button, { x0, y0, x1, y1 });
    // A pointer's tap is handled in pointerUp (a drag may start on a box too); this is the
    // keyboard's Enter or Space, whose click has no pointer detail.
    button.addEventListener("click", (event) => {
      if (event.detail === 0) this.choose(button);
    });
    return button;
  }

  choose(button) {
    const [x0, y0, x1, y1] = button.dataset.box.split(",").map(Number);
    this.setBox({ x0, y0, x1, y1 });
    this.commit();
  }

  say(message) {
    this.status.textContent = message;
  }

  // --- the crop box ------------------------------------------------------------------------

  setBox(box) {
    this.box = box;
    this.cropEl.hidden = !box;
    this.wholeButton.hidden = !box;
    if (box) place(this.cropEl, box);
  }

  commit() {
    clearTimeout(this.keyTimer);
    if (this.box) this.onCrop(boxToList(this.box));
  }

  point(event) {
    const rect = this.frame.getBoundingClientRect();
    return {
      x: clamp((event.clientX - rect.left) / rect.width, 0, 1),
      y: clamp((event.clientY - rect.top) / rect.height, 0, 1),
    };
  }

  pointerDown(event) {
    if (event.button > 0) return;
    const start = this.point(event);
    const tapped = event.target.closest(".detected");
    const handle = event.target.dataset?.handle;
    let kind = "draw";
    if (handle) kind = "resize";
    else if (this.box && event.target === this.cropEl) kind = "move";
    this.drag = { kind, handle, start, tapped, from: this.box ? { ...this.box } : null, previous: this.box };
    this.frame.setPointerCapture(event.pointerId);
    event.preventDefault();
  }

  pointerMove(event) {
    if (!this.drag) return;
    const p = this.point(event);
    const { kind, handle, start, from } = this.drag;
    this.drag.moved = true;
    if (kind === "draw") {
      this.setBox({ x0: Math.min(start.x, p.x), y0: Math.min(start.y, p.y), x1: Math.max(start.x, p.x), y1: Math.max(start.y, p.y) });
    } else if (kind === "move") {
      const width = from.x1 - from.x0;
      const height = from.y1 - from.y0;
      const x0 = clamp(from.x0 + p.x - start.x, 0, 1 - width);
      const y0 = clamp(from.y0 + p.y - start.y, 0, 1 - height);
      this.setBox({ x0, y0, x1: x0 + width, y1: y0 + height });
    } else {
      const box = { ...from };
      if (handle.includes("w")) box.x0 = clamp(p.x, 0, from.x1 - MIN_SIDE);
      if (handle.includes("e")) box.x1 = clamp(p.x, from.x0 + MIN_SIDE, 1);
      if (handle.includes("n")) box.y0 = clamp(p.y, 0, from.y1 - MIN_SIDE);
      if (handle.includes("s")) box.y1 = clamp(p.y, from.y0 + MIN_SIDE, 1);
      this.setBox(box);
    }
  }

  pointerUp() {
    if (!this.drag) return;
    const { previous, tapped, kind, moved } = this.drag;
    this.drag = null;
    const box = this.box;
    const tiny = !box || box.x1 - box.x0 < MIN_SIDE || box.y1 - box.y0 < MIN_SIDE;
    if (!moved || (kind === "draw" && tiny)) {
      // A tap, not a drag: on a detected item it searches that item; elsewhere nothing changes.
      this.setBox(previous);
      if (tapped) this.choose(tapped);
      return;
    }
    this.cropEl.focus({ preventScroll: true });
    this.commit();
  }

  cancelDrag() {
    if (this.drag) this.setBox(this.drag.previous);
    this.drag = null;
  }

  keyDown(event) {
    if (!this.box) return;
    if (event.key === "Enter") {
      event.preventDefault();
      this.commit();
      return;
    }
    const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    const move = moves[event.key];
    if (!move) return;
    event.preventDefault();
    const [dx, dy] = move.map((d) => d * KEY_STEP);
    const box = { ...this.box };
    if (event.shiftKey) {
      // Shift resizes from the bottom-right corner, which keeps the box's top-left in place.
      box.x1 = clamp(box.x1 + dx, box.x0 + MIN_SIDE, 1);
      box.y1 = clamp(box.y1 + dy, box.y0 + MIN_SIDE, 1);
    } else {
      const width = box.x1 - box.x0;
      const height = box.y1 - box.y0;
      box.x0 = clamp(box.x0 + dx, 0, 1 - width);
      box.y0 = clamp(box.y0 + dy, 0, 1 - height);
      box.x1 = box.x0 + width;
      box.y1 = box.y0 + height;
    }
    this.setBox(box);
    clearTimeout(this.keyTimer);
    this.keyTimer = setTimeout(() => this.commit(), 600); // search once the keys rest
  }

  startKeyboardBox() {
    // Keyboard users start from a centred box they can then move and resize.
    if (!this.box) this.setBox({ x0: 0.25, y0: 0.25, x1: 0.75, y1: 0.75 });
    this.cropEl.focus();
  }
}

// One row of results per detected item.
export function renderLook(container, body, card, onSearchItem) {
  const groups = body.groups || [];
  container.replaceChildren(...groups.map((group) => {
    const heading = document.createElement("h3");
    heading.textContent = group.label;
    const only = document.createElement("button");
    only.type = "button";
    only.className = "btn btn-ghost";
    only.textContent = "Search only this item";
    only.addEventListener("click", () => onSearchItem(group.box));
    const head = document.createElement("div");
    head.className = "look-head";
    head.append(heading, only);
    const row = document.createElement("ul");
    row.className = "grid look-row";
    row.setAttribute("aria-label", `Products like the ${group.label}`);
    row.append(...group.results.map(card));
    const section = document.createElement("section");
    section.className = "look-group";
    section.append(head, row);
    return section;
  }));
  container.hidden = groups.length === 0;
  return groups.reduce((sum, group) => sum + group.results.length, 0);
}
