/*! listen-player: the "Listen to this article" player for listen episodes. One file, no
 * dependencies, no third-party requests.
 *
 *   <link rel="stylesheet" href="…/player/listen-player.css">
 *   <script defer src="…/player/listen-player.js"></script>
 *   <listen-player src="…/episodes/<slug>.json"></listen-player>
 *
 * It fetches the episode manifest (title, audio file, chapter and sentence times) and nothing else
 * until the listener presses play (the audio is preload="none"). Article text only ever reaches
 * the page as textContent. Optional attribute: open="chapters" | "transcript" (the panel shown at
 * first). Methods: play(), pause(), seek(seconds); property: audio.
 */
(() => {
  "use strict";
  const NAME = "listen-player";
  if (!window.customElements || customElements.get(NAME)) return;

  const SPEEDS = [0.75, 1, 1.25, 1.5, 1.75, 2];
  const BACK = 15;
  const FORWARD = 30;
  const STORE = "listen-player:";
  let count = 0;

  const store = (key, value) => {
    try {
      if (value === undefined) return localStorage.getItem(STORE + key);
      if (value === null) localStorage.removeItem(STORE + key);
      else localStorage.setItem(STORE + key, value);
    } catch {
      // Storage blocked (privacy settings, sandboxed iframe): the player works without it.
    }
    return null;
  };

  const pad = (n) => String(n).padStart(2, "0");
  const clock = (s) => {
    s = Math.max(0, Math.floor(s));
    const h = Math.floor(s / 3600);
    const m = Math.floor(s / 60) % 60;
    return `${h ? `${h}:${pad(m)}` : m}:${pad(s % 60)}`;
  };
  const unit = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
  const spoken = (s) => {
    s = Math.max(0, Math.round(s));
    const parts = [];
    if (s >= 3600) parts.push(unit(Math.floor(s / 3600), "hour"));
    if (s >= 60) parts.push(unit(Math.floor(s / 60) % 60, "minute"));
    parts.push(unit(s % 60, "second"));
    return parts.join(" ");
  };
  const megabytes = (bytes) => `${(bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0)} MB`;
  // The last item whose start_ms is at or before ms (-1 if none): items are sorted by start.
  const indexAt = (items, ms) => {
    let lo = 0;
    let hi = items.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (items[mid].start_ms <= ms) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };
  const el = (tag, className, text) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  };

  const svg = (body, cls = "") =>
    `<svg class="lp-i ${cls}" viewBox="0 0 24 24" aria-hidden="true" focusable="false">${body}</svg>`;
  const path = (d) => `<path d="${d}"/>`;
  const skip = (arc, head, seconds) =>
    svg(
      `<path d="${arc}" fill="none" stroke="currentColor" stroke-width="2"/>${path(head)}` +
        `<text x="12" y="15.3" text-anchor="middle" font-size="8.5" font-weight="700">${seconds}</text>`,
    );
  const ICONS = {
    play: path("M8 5.2v13.6a1 1 0 0 0 1.5.85l10.6-6.8a1 1 0 0 0 0-1.7L9.5 4.35A1 1 0 0 0 8 5.2z"),
    pause: path("M6.5 5h4v14h-4zm7 0h4v14h-4z"),
    chapters: path("M3.5 6h2.5v2.5H3.5zm5 0h12v2.5h-12zm-5 5h2.5v2.5H3.5zm5 0h12v2.5h-12zm-5 5h2.5v2.5H3.5zm5 0h12v2.5h-12z"),
    transcript: path("M4 5h16v2.2H4zm0 4h16v2.2H4zm0 4h16v2.2H4zm0 4h10v2.2H4z"),
    download: path("M11 3.5h2v9l3.3-3.3 1.4 1.4-5.7 5.7-5.7-5.7 1.4-1.4 3.3 3.3zM5 18.5h14v2H5z"),
  };

  // The skeleton holds no article text: that is filled in with textContent once the manifest is in.
  const skeleton = (id) => `
<div class="lp" role="region" aria-labelledby="${id}k ${id}t">
 <div class="lp-head">
  <button type="button" class="lp-btn lp-play" aria-label="Play" disabled>${svg(ICONS.play, "lp-i-play")}${svg(ICONS.pause, "lp-i-pause")}</button>
  <div class="lp-meta"><p class="lp-kicker" id="${id}k">Listen<span class="lp-long"> to this article</span><span class="lp-length"></span></p><p class="lp-title" id="${id}t">Loading…</p></div>
 </div>
 <div class="lp-seek">
  <input class="lp-range" type="range" min="0" max="1" step="any" value="0" aria-label="Seek" aria-valuetext="0 seconds" disabled>
  <div class="lp-ticks" aria-hidden="true"></div>
 </div>
 <div class="lp-times">
  <span class="lp-elapsed"><span class="lp-sr">Elapsed: </span><span>0:00</span></span>
  <span class="lp-now"></span>
  <span class="lp-left"><span class="lp-sr">Remaining: </span><span>−0:00</span></span>
 </div>
 <div class="lp-bar">
  <button type="button" class="lp-btn lp-back" aria-label="Back ${BACK} seconds" disabled>${skip("M12 3.5a8.5 8.5 0 1 1-8.5 8.5", "M12 .5 7.8 3.5 12 6.5z", BACK)}</button>
  <button type="button" class="lp-btn lp-fwd" aria-label="Forward ${FORWARD} seconds" disabled>${skip("M12 3.5a8.5 8.5 0 1 0 8.5 8.5", "m12 .5 4.2 3L12 6.5z", FORWARD)}</button>
  <select class="lp-rate" aria-label="Playback speed" disabled>${SPEEDS.map((s) => `<option value="${s}">${s}×</option>`).join("")}</select>
  <span class="lp-fill"></span>
  <button type="button" class="lp-btn lp-tab" aria-expanded="false" aria-controls="${id}c" data-panel="chapters" disabled>${svg(ICONS.chapters)}<span class="lp-label">Chapters</span></button>
  <button type="button" class="lp-btn lp-tab" aria-expanded="false" aria-controls="${id}x" data-panel="transcript" disabled>${svg(ICONS.transcript)}<span class="lp-label">Transcript</span></button>
  <a class="lp-btn lp-download" aria-label="Download audio">${svg(ICONS.download)}</a>
 </div>
 <div class="lp-panel" id="${id}c" data-panel="chapters" hidden><ol class="lp-list lp-chapters" aria-label="Chapters"></ol></div>
 <div class="lp-panel lp-transcript" id="${id}x" data-panel="transcript" hidden></div>
 <p class="lp-sr" role="status"></p>
 <audio preload="none"></audio>
</div>`;

  class ListenPlayer extends HTMLElement {
    static get observedAttributes() {
      return ["src"];
    }

    get audio() {
      return this.a;
    }

    connectedCallback() {
      if (!this.a) this.build();
      if (!this.m && !this.loading) this.load();
    }

    disconnectedCallback() {
      if (this.a) {
        this.a.pause();
        this.save(true);
      }
    }

    attributeChangedCallback(name, before, after) {
      if (this.a && before !== after) this.load();
    }

    build() {
      const id = `lp${++count}-`;
      this.innerHTML = skeleton(id);
      const $ = (selector) => this.querySelector(selector);
      const $$ = (selector) => [...this.querySelectorAll(selector)];
      this.root = $(".lp");
      this.a = $("audio");
      this.ui = {
        play: $(".lp-play"),
        length: $(".lp-length"),
        title: $(".lp-title"),
        range: $(".lp-range"),
        ticks: $(".lp-ticks"),
        elapsed: $(".lp-elapsed > :last-child"),
        left: $(".lp-left > :last-child"),
        now: $(".lp-now"),
        rate: $(".lp-rate"),
        download: $(".lp-download"),
        chapters: $(".lp-chapters"),
        transcript: $(".lp-transcript"),
        status: $("[role=status]"),
        tabs: $$(".lp-tab"),
        panels: $$(".lp-panel"),
        controls: $$("button, select, input"),
      };
      const { ui, a } = this;
      this.rate(Number(store("rate")) || 1);

      ui.play.addEventListener("click", () => (a.paused ? this.play() : this.pause()));
      $(".lp-back").addEventListener("click", () => this.seek(this.time() - BACK));
      $(".lp-fwd").addEventListener("click", () => this.seek(this.time() + FORWARD));
      ui.rate.addEventListener("change", () => this.rate(Number(ui.rate.value), true));
      for (const tab of ui.tabs) {
        tab.addEventListener("click", () => this.open(tab.dataset.panel, true));
      }
      ui.range.addEventListener("input", () => this.seek(Number(ui.range.value)));
      ui.range.addEventListener("keydown", (event) => this.seekKey(event));
      ui.chapters.addEventListener("click", (event) => this.jump(event, this.m.chapters));
      ui.transcript.addEventListener("click", (event) => this.jump(event, this.m.sentences));
      ui.transcript.addEventListener("keydown", (event) => this.rove(event));
      ui.transcript.addEventListener("focusin", (event) => this.roveTo(event.target));
      for (const type of ["wheel", "touchmove", "keydown", "pointerdown"]) {
        ui.transcript.addEventListener(type, () => (this.browsed = Date.now()), { passive: true });
      }

      a.addEventListener("play", () => this.playing(true));
      a.addEventListener("pause", () => this.playing(false));
      a.addEventListener("ended", () => {
        this.playing(false);
        store(`pos:${this.key}`, null);
      });
      a.addEventListener("waiting", () => this.root.classList.add("is-waiting"));
      a.addEventListener("playing", () => this.root.classList.remove("is-waiting"));
      a.addEventListener("ratechange", () => (ui.rate.value = String(a.playbackRate)));
      a.addEventListener("error", () => {
        this.root.classList.remove("is-waiting");
        this.fail("The audio could not be loaded.");
      });
      for (const type of ["timeupdate", "seeking", "seeked", "durationchange"]) {
        a.addEventListener(type, () => this.update());
      }
      addEventListener("pagehide", () => this.save(true));
      this.open(this.getAttribute("open"));
    }

    async load() {
      const src = this.getAttribute("src");
      if (!src) return;
      const token = (this.loading = {});
      let manifest;
      let url;
      try {
        url = new URL(src, document.baseURI);
        const response = await fetch(url, { credentials: "same-origin" });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        manifest = await response.json();
        if (!manifest.audio || !(manifest.duration_ms > 0)) throw new Error("not a manifest");
      } catch (error) {
        if (token !== this.loading) return;
        this.loading = null;
        this.root.classList.add("is-error");
        this.ui.title.textContent = "This audio is not available.";
        this.fail(`Could not load ${src}: ${error.message}`);
        return;
      }
      if (token !== this.loading) return;
      this.loading = null;
      this.show(manifest, url);
    }

    show(m, url) {
      const { ui, a } = this;
      m.chapters = Array.isArray(m.chapters) ? m.chapters : [];
      m.sentences = Array.isArray(m.sentences) ? m.sentences : [];
      this.m = m;
      this.d = m.duration_ms / 1000;
      this.key = url.href.split("#")[0];
      this.chapter = this.sentence = -2;
      this.root.classList.remove("is-error");
      // Article text is spoken in the article's language; the controls stay in English.
      for (const node of [ui.title, ui.now, ui.chapters, ui.transcript]) node.lang = m.language || "";

      const audio = new URL(m.audio, url).href;
      a.src = audio;
      ui.title.textContent = m.title || "Untitled";
      ui.title.title = m.title || "";
      const minutes = Math.max(1, Math.round(this.d / 60));
      ui.length.textContent = ` · ${minutes} min`;
      ui.range.max = String(this.d);
      ui.download.href = audio;
      ui.download.setAttribute("download", m.audio);
      const type = (m.mime_type || "").includes("mp4") ? "M4A" : "MP3";
      const size = m.audio_bytes > 0 ? `, ${megabytes(m.audio_bytes)}` : "";
      ui.download.setAttribute("aria-label", `Download audio (${type}${size})`);
      ui.download.title = `Download (${type}${size})`;

      ui.ticks.replaceChildren(
        ...m.chapters.slice(1).map((c) => {
          const tick = el("i");
          tick.style.left = `${(100 * c.start_ms) / m.duration_ms}%`;
          return tick;
        }),
      );
      ui.chapters.replaceChildren(
        ...m.chapters.map((c, i) => {
          const button = el("button", "lp-item lp-chapter");
          button.type = "button";
          button.dataset.i = i;
          // Read as "2. Title, 1:36": the punctuation is for screen readers only.
          button.append(
            el("span", "lp-n", i + 1),
            el("span", "lp-sr", ". "),
            el("span", "lp-name", c.title),
            el("span", "lp-sr", ", "),
            el("span", "lp-at", clock(c.start_ms / 1000)),
          );
          const item = el("li");
          item.append(button);
          return item;
        }),
      );
      this.lines = [];
      const groups = m.chapters.length ? m.chapters : [{ title: "" }];
      ui.transcript.replaceChildren(
        ...groups.map((c, ci) => {
          const group = el("div", "lp-group");
          const list = el("ol", "lp-list");
          list.setAttribute("aria-label", c.title || "Transcript");
          m.sentences.forEach((s, i) => {
            if ((s.chapter || 0) !== ci && groups.length > 1) return;
            const button = el("button", "lp-item lp-line", s.text);
            button.type = "button";
            button.dataset.i = i;
            button.tabIndex = -1;
            this.lines[i] = button;
            const item = el("li");
            item.append(button);
            list.append(item);
          });
          // The first chapter is the lead, titled with the article title: no heading of its own.
          if (ci > 0 && c.title) group.append(el("div", "lp-heading", c.title));
          group.append(list);
          return group;
        }),
      );
      this.chapterButtons = [...ui.chapters.querySelectorAll("button")];
      for (const control of ui.controls) control.disabled = false;
      ui.tabs[0].disabled = !m.chapters.length;
      ui.tabs[1].disabled = !m.sentences.length;
      if (ui.tabs[0].disabled && this.panel === "chapters") this.open(null);

      const saved = Number(store(`pos:${this.key}`));
      if (saved > 1 && saved < this.d - 5) a.currentTime = saved;
      this.update(true);
      this.roveTo(this.lines[Math.max(0, this.sentence)]);
      this.follow(true);
    }

    time() {
      return Math.min(this.a.currentTime || 0, this.d || 0);
    }

    play() {
      if (!this.m) return;
      const promise = this.a.play();
      if (promise) {
        promise.catch((error) => {
          if (error.name !== "AbortError") this.fail(`Playback failed: ${error.message}`);
        });
      }
    }

    pause() {
      if (this.a) this.a.pause();
    }

    seek(seconds) {
      if (!this.m) return;
      this.a.currentTime = Math.max(0, Math.min(seconds, this.d));
      this.update(true);
    }

    seekKey(event) {
      const t = this.time();
      const moves = {
        ArrowLeft: t - 5,
        ArrowDown: t - 5,
        ArrowRight: t + 5,
        ArrowUp: t + 5,
        PageDown: t - 30,
        PageUp: t + 30,
        Home: 0,
        End: this.d,
      };
      if (!(event.key in moves) || event.altKey || event.ctrlKey || event.metaKey) return;
      event.preventDefault();
      this.seek(moves[event.key]);
    }

    jump(event, items) {
      const button = event.target.closest("button[data-i]");
      if (!button || !this.m) return;
      this.seek(items[Number(button.dataset.i)].start_ms / 1000);
      this.play();
    }

    rate(value, chosen) {
      if (!SPEEDS.includes(value)) value = 1;
      this.a.defaultPlaybackRate = this.a.playbackRate = value;
      this.ui.rate.value = String(value);
      if (chosen) store("rate", String(value));
    }

    open(name, toggle) {
      if (toggle && name === this.panel) name = null;
      if (!this.ui.tabs.some((tab) => tab.dataset.panel === name)) name = null;
      this.panel = name;
      for (const tab of this.ui.tabs) {
        tab.setAttribute("aria-expanded", String(tab.dataset.panel === name));
      }
      for (const panel of this.ui.panels) panel.hidden = panel.dataset.panel !== name;
      if (name === "transcript") this.follow(true);
    }

    playing(on) {
      this.root.classList.toggle("is-playing", on);
      if (!on) this.root.classList.remove("is-waiting");
      this.ui.play.setAttribute("aria-label", on ? "Pause" : "Play");
      this.save(true);
      if (!on) return;
      for (const other of document.querySelectorAll(NAME)) {
        if (other !== this && other.pause) other.pause();
      }
      this.session();
    }

    // The lock screen and media keys control whichever player played last.
    session() {
      const session = navigator.mediaSession;
      if (!session || !window.MediaMetadata) return;
      const m = this.m;
      session.metadata = new MediaMetadata({ title: m.title || "", artist: m.byline || "" });
      const chapterAt = (step) => {
        const list = m.chapters;
        const i = indexAt(list, this.time() * 1000 + (step < 0 ? -3000 : 0)) + step;
        if (list[i]) this.seek(list[i].start_ms / 1000);
      };
      const actions = {
        play: () => this.play(),
        pause: () => this.pause(),
        seekbackward: (d) => this.seek(this.time() - (d.seekOffset || BACK)),
        seekforward: (d) => this.seek(this.time() + (d.seekOffset || FORWARD)),
        seekto: (d) => this.seek(d.seekTime),
        previoustrack: () => chapterAt(0),
        nexttrack: () => chapterAt(1),
      };
      for (const [action, handler] of Object.entries(actions)) {
        try {
          session.setActionHandler(action, handler);
        } catch {
          // An action this browser does not know.
        }
      }
    }

    update(announce) {
      const { ui, m } = this;
      if (!m) return;
      const t = this.time();
      const ms = t * 1000;
      ui.range.value = String(t);
      ui.range.style.setProperty("--lp-f", String(this.d ? t / this.d : 0));
      ui.elapsed.textContent = clock(t);
      ui.left.textContent = `−${clock(Math.round(this.d) - Math.floor(t))}`;
      // While the seek bar has focus its value text changes only when the listener moves it.
      if (announce || document.activeElement !== ui.range) {
        ui.range.setAttribute("aria-valuetext", `${spoken(t)} of ${spoken(this.d)}`);
      }

      const chapter = indexAt(m.chapters, ms);
      if (chapter !== this.chapter) {
        this.mark(this.chapterButtons[this.chapter], this.chapterButtons[chapter]);
        this.chapter = chapter;
        const c = m.chapters[chapter];
        ui.now.textContent = c && chapter > 0 ? c.title : "";
        ui.now.title = ui.now.textContent;
      }
      const sentence = indexAt(m.sentences, ms);
      if (sentence !== this.sentence) {
        this.mark(this.lines[this.sentence], this.lines[sentence]);
        this.sentence = sentence;
        if (!ui.transcript.contains(document.activeElement)) this.roveTo(this.lines[sentence]);
        this.follow();
      }
      this.save();
    }

    mark(before, after) {
      if (before) before.removeAttribute("aria-current");
      if (after) after.setAttribute("aria-current", "true");
    }

    // Keep the spoken sentence in view inside the transcript panel (never scrolls the page),
    // unless the listener has been browsing the transcript in the last few seconds.
    follow(force) {
      const panel = this.ui.transcript;
      const line = this.lines && this.lines[this.sentence];
      if (panel.hidden || !line || (!force && Date.now() - (this.browsed || 0) < 4000)) return;
      const top = Math.max(0, line.offsetTop - panel.clientHeight / 3);
      const far = Math.abs(top - panel.scrollTop) > 2 * panel.clientHeight;
      const still = force || far || matchMedia("(prefers-reduced-motion: reduce)").matches;
      panel.scrollTo({ top, behavior: still ? "auto" : "smooth" });
    }

    // The transcript is one tab stop; arrow keys, Home and End move between its sentences.
    roveTo(target) {
      if (!target || !target.classList.contains("lp-line")) return;
      if (this.roving && this.roving !== target) this.roving.tabIndex = -1;
      this.roving = target;
      target.tabIndex = 0;
    }

    rove(event) {
      const lines = this.lines;
      const i = lines.indexOf(event.target);
      if (i < 0) return;
      const moves = { ArrowDown: i + 1, ArrowRight: i + 1, ArrowUp: i - 1, ArrowLeft: i - 1 };
      Object.assign(moves, { Home: 0, End: lines.length - 1 });
      const next = lines[moves[event.key]];
      if (!(event.key in moves) || event.altKey || event.ctrlKey || event.metaKey) return;
      event.preventDefault();
      if (!next) return;
      this.roveTo(next);
      next.focus();
    }

    save(now) {
      if (!this.key) return;
      const t = this.time();
      if (!now && Math.abs(t - (this.saved || 0)) < 5) return;
      this.saved = t;
      store(`pos:${this.key}`, t > 1 && t < this.d - 5 ? t.toFixed(1) : null);
    }

    fail(message) {
      this.ui.status.textContent = message;
      this.ui.now.textContent = message;
    }
  }

  customElements.define(NAME, ListenPlayer);
})();
