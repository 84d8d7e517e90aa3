/*! listen-player: the "Listen to this article" player for listen episodes. One file, no
 * dependencies, no third-party requests, nothing sent anywhere.
 *
 *   <link rel="stylesheet" href="…/player/listen-player.css">
 *   <script defer src="…/player/listen-player.js"></script>
 *   <listen-player src="…/episodes/<slug>.json" playlist="…/playlist.json"></listen-player>
 *
 * It fetches the episode manifest (title, audio file, chapter and sentence times) and the
 * playlist, and nothing else until the listener presses play (the audio is preload="none").
 * Article text only ever reaches the page as textContent.
 *
 * Attributes: open="chapters" | "transcript" (the panel shown at first); article="CSS selector"
 * (where on-page read-along looks: default the page's <article>, else <main>);
 * read-along="false"; read-along-keys (matched paragraphs become Tab stops); playlist="URL"
 * ("Up next", and the next episode plays at the end); autoadvance="false"; sticky="false" (no
 * mini-player at the bottom of the viewport). Methods: play(), pause(), seek(seconds);
 * property: audio. Events (bubbling, composed): listen:ready, :play, :pause, :progress {percent},
 * :ended, :chapter {index, title}, :ratechange {rate}, :seek {from, to}, :next {manifest}; every
 * detail also carries {manifest, currentTime, duration}.
 */
(() => {
  "use strict";
  const NAME = "listen-player";
  if (!window.customElements || customElements.get(NAME)) return;

  const SPEEDS = [0.75, 1, 1.25, 1.5, 1.75, 2];
  const BACK = 15;
  const FORWARD = 30;
  const STORE = "listen-player:";
  const MARKS = [10, 25, 50, 75, 90];
  const COUNTDOWN = 5;
  const HIGHLIGHT = "listen-sentence";
  // What read-along may match on the host page, and what it never touches.
  const BLOCKS = "p,li,blockquote,h1,h2,h3,h4,h5,h6,dd,dt";
  const SKIP = "listen-player,a,button,input,label,select,textarea,form,summary,[contenteditable]";
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
  const minutes = (s) => `${Math.max(1, Math.round(s / 60))} min`;
  const megabytes = (bytes) => `${(bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0)} MB`;
  const reduced = () => matchMedia("(prefers-reduced-motion: reduce)").matches;
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
  const on = (node, type, listener, options) => node.addEventListener(type, listener, options);
  // An attribute set, or removed (value null or undefined).
  const set = (node, name, value) =>
    value == null ? node.removeAttribute(name) : node.setAttribute(name, value);
  const titleOf = (item) => item.title || "Untitled";
  const modified = (event) => event.altKey || event.ctrlKey || event.metaKey;
  const array = (value) => (Array.isArray(value) ? value : []);
  const button = (className, text, i) => {
    const node = el("button", className, text);
    node.type = "button";
    node.dataset.i = i;
    return node;
  };

  // Text as listen.script.match_key reduces it: what survives any markup of the same words.
  // Code point by code point, so a block's key is the concatenation of its characters' keys.
  // (Spaces, ASCII and general punctuation and accents go first, without the Unicode-aware
  // expression, which costs ten times as much: most text is left with nothing else to drop.)
  const key = (text) => {
    const k = text
      .normalize("NFKD")
      .toLowerCase()
      .replace(/ς/g, "σ")
      .replace(/[\0-/:-@[-`{-\x7f\xa0\u0300-\u036f\u2000-\u206f]+/g, "");
    return /[^\0-\x7f]/.test(k) ? k.replace(/[^\p{L}\p{N}]/gu, "") : k;
  };
  // listen.script.text_fingerprint: "<length>-<FNV-1a>" of the key's UTF-16 code units.
  const fingerprint = (k) => {
    let h = 0x811c9dc5;
    for (let i = 0; i < k.length; i++) h = Math.imul(h ^ k.charCodeAt(i), 0x1000193);
    return `${k.length.toString(16)}-${(h >>> 0).toString(16).padStart(8, "0")}`;
  };
  const punct = (c) => c && !/[\s\p{L}\p{N}]/u.test(c);
  // Move a range boundary over the punctuation next to it ("“" before a sentence, ".”" after).
  const widen = (node, offset, step) => {
    const text = node.data;
    while (punct(text[step < 0 ? offset - 1 : offset])) offset += step;
    return offset;
  };
  // A block's text nodes, without those of citation markers (<sup><a href="#cite-1">[1]</a>),
  // which the extractor leaves out of the narration too.
  const texts = (node) => {
    // (4: text nodes only; the filter's 2 rejects one, 1 accepts it.)
    const walker = document.createTreeWalker(node, 4, (t) => (t.parentNode.closest("sup a") ? 2 : 1));
    const found = [];
    for (let t; (t = walker.nextNode()); ) found.push(t);
    return found;
  };
  // Inside something of the page read-along leaves alone (a link, a form control, a player)?
  const skipped = (node, root) => {
    const hit = node.closest(SKIP);
    return !!hit && root.contains(hit);
  };

  const svg = (body, cls = "") =>
    `<svg class="lp-i ${cls}" viewBox="0 0 24 24" aria-hidden="true">${body}</svg>`;
  const path = (d) => `<path d="${d}"/>`;
  const stroke = (d) => `<path d="${d}" fill="none" stroke="currentColor" stroke-width="2"/>`;
  const skip = (arc, head, seconds) =>
    svg(
      `${stroke(arc)}${path(head)}` +
        `<text x="12" y="15.3" text-anchor="middle" font-size="8.5" font-weight="700">${seconds}</text>`,
    );
  const icon = (d, cls) => svg(path(d), cls);
  const playPause =
    icon("M8 5.2v13.6a1 1 0 0 0 1.5.85l10.6-6.8a1 1 0 0 0 0-1.7L9.5 4.35A1 1 0 0 0 8 5.2z", "lp-i-play") +
    icon("M6.5 5h4v14h-4zm7 0h4v14h-4z", "lp-i-pause");

  const iconButton = (cls, label, body, more = "") =>
    `<button type="button" class="lp-btn ${cls}" aria-label="${label}"${more}>${body}</button>`;
  const tab = (panel, id, label, d) =>
    `<button type="button" class="lp-btn lp-tab" aria-expanded="false" aria-controls="${id}" data-panel="${panel}" disabled>${icon(d)}<span class="lp-label">${label}</span></button>`;

  // The skeleton holds no article text: that is filled in with textContent once the manifest is in.
  const skeleton = (id) => `<div class="lp-c"><div class="lp" role="region" aria-labelledby="${id}k ${id}t">\
<div class="lp-head">${iconButton("lp-play", "Play", playPause, " disabled")}\
<div class="lp-meta"><p class="lp-kicker" id="${id}k">Listen<span class="lp-long"> to this article</span><span class="lp-length"></span></p><p class="lp-title" id="${id}t">Loading…</p></div></div>\
<div class="lp-seek"><input class="lp-range" type="range" min="0" max="1" step="any" value="0" aria-label="Seek" aria-valuetext="0 seconds" disabled><div class="lp-ticks" aria-hidden="true"></div></div>\
<div class="lp-times"><span class="lp-elapsed"><span class="lp-sr">Elapsed: </span><span>0:00</span></span><span class="lp-now"></span><span class="lp-left"><span class="lp-sr">Remaining: </span><span>−0:00</span></span></div>\
<div class="lp-bar">\
${iconButton("lp-back", `Back ${BACK} seconds`, skip("M12 3.5a8.5 8.5 0 1 1-8.5 8.5", "M12 .5 7.8 3.5 12 6.5z", BACK), " disabled")}\
${iconButton("lp-fwd", `Forward ${FORWARD} seconds`, skip("M12 3.5a8.5 8.5 0 1 0 8.5 8.5", "m12 .5 4.2 3L12 6.5z", FORWARD), " disabled")}\
<select class="lp-rate" aria-label="Playback speed" disabled>${SPEEDS.map((s) => `<option value="${s}">${s}×</option>`).join("")}</select><span class="lp-fill"></span>\
${tab("chapters", `${id}c`, "Chapters", "M3.5 6h2.5v2.5H3.5zm5 0h12v2.5h-12zm-5 5h2.5v2.5H3.5zm5 0h12v2.5h-12zm-5 5h2.5v2.5H3.5zm5 0h12v2.5h-12z")}\
${tab("transcript", `${id}x`, "Transcript", "M4 5h16v2.2H4zm0 4h16v2.2H4zm0 4h16v2.2H4zm0 4h10v2.2H4z")}\
<a class="lp-btn lp-download" aria-label="Download audio">${icon("M11 3.5h2v9l3.3-3.3 1.4 1.4-5.7 5.7-5.7-5.7 1.4-1.4 3.3 3.3zM5 18.5h14v2H5z")}</a></div>\
<div class="lp-up"><span class="lp-upnext">Up next</span><button type="button" class="lp-next" hidden><span></span><span class="lp-at"></span></button><button type="button" class="lp-cancel" hidden>Cancel</button></div>\
<div class="lp-panel" id="${id}c" data-panel="chapters" hidden><ol class="lp-list lp-chapters" aria-label="Chapters"></ol></div>\
<div class="lp-panel lp-transcript" id="${id}x" data-panel="transcript" hidden></div>\
<p class="lp-sr" role="status"></p><p class="lp-sr" id="${id}h" hidden>Press Enter to listen from here.</p>\
<audio preload="none"></audio></div></div>\
<div class="lp-mini" role="region" aria-label="Now playing" hidden><i class="lp-mline"></i>\
${iconButton("lp-mplay", "Play", playPause)}<p class="lp-mtitle"></p>\
${iconButton("lp-mback", "Back to the player", svg(stroke("M12 19V6m-7 6 7-7 7 7")))}\
${iconButton("lp-mclose", "Close", svg(stroke("m6 6 12 12m0-12L6 18")))}</div>`;

  class ListenPlayer extends HTMLElement {
    // Internal state: private, so that no site script or future HTMLElement property meets it
    // (and terser shortens the names).
    #media; // the <audio>
    #manifest;
    #duration; // seconds
    #key; // the manifest's URL: what everything remembered per episode is remembered by
    #root; // the player's box (.lp)
    #ui; // its parts: ui.play is .lp-play, and so on
    #hint; // the id of "Press Enter to listen from here."
    #loading; // a token for the manifest being fetched
    #listing; // the playlist being fetched
    #list; // ...and its episodes
    #next; // the episode "Up next" offers
    #timer; // the countdown to it
    #autoplay; // play once the manifest is in (the next episode)
    #chapter; // the current chapter's index
    #chapterButtons;
    #sentence; // the current sentence's index
    #lines; // the transcript's element for each sentence (a heading for the heading's own)
    #stops; // ...and those elements in order, once each (the arrow keys move between them)
    #roving; // the one of them that is a Tab stop
    #browsed; // when the listener last scrolled or used the transcript
    #panel; // the open panel's name
    #live; // ready: changes are the listener's, and are told as events
    #engaged; // played or moved: the page reads along
    #started; // played since the page loaded: the mini-player may show
    #away; // the player is out of view
    #closed; // the mini-player was closed
    #io; // the IntersectionObserver that tells #away
    #page; // read-along: {root, found[block] = element, of[block] = sentences, ranges, tabbed}
    #onPage; // its click and Enter listener
    #current; // the page's block being read
    #shown; // the sentence marked in the page
    #lit; // the highlight is this player's
    #marks; // the progress marks reported
    #from; // where playback was at the last update
    #seeking; // the seek gesture being gathered into one listen:seek
    #told; // the speed last reported
    #saved; // the position last remembered

    static get observedAttributes() {
      return ["src"];
    }

    get audio() {
      return this.#media;
    }

    connectedCallback() {
      if (!this.#media) this.#build();
      if (!this.#manifest && !this.#loading) this.#load();
      else if (this.#manifest) this.#matchPage();
      if (!this.#listing) this.#listing = this.#loadList();
      this.#io.observe(this.#root);
    }

    disconnectedCallback() {
      if (this.#media) {
        this.#media.pause();
        this.#save(true);
      }
      this.#io.disconnect();
      this.#stopCountdown();
      this.#unmatch();
    }

    attributeChangedCallback(name, before, after) {
      if (this.#media && before !== after) this.#load();
    }

    #build() {
      const id = `lp${++count}-`;
      this.innerHTML = skeleton(id);
      const $ = (selector) => this.querySelector(selector);
      const $$ = (selector) => [...this.querySelectorAll(selector)];
      this.#root = $(".lp");
      this.#media = $("audio");
      this.#hint = `${id}h`;
      // ui.play is .lp-play, ui.title .lp-title, and so on.
      const ui = Object.fromEntries(
        ("play length title range ticks now back fwd rate download chapters transcript upnext " +
          "next cancel mini mplay mtitle mline mback mclose")
          .split(" ")
          .map((name) => [name, $(`.lp-${name}`)]),
      );
      this.#ui = Object.assign(ui, {
        elapsed: $(".lp-elapsed > :last-child"),
        left: $(".lp-left > :last-child"),
        status: $("[role=status]"),
        tabs: $$(".lp-tab"),
        panels: $$(".lp-panel"),
        controls: $$(".lp [disabled]"),
      });
      const a = this.#media;
      this.#rate(Number(store("rate")) || 1);
      const toggle = () => (a.paused ? this.play() : this.pause());

      on(ui.play, "click", toggle);
      on(ui.mplay, "click", toggle);
      on(ui.back, "click", () => this.seek(this.#time() - BACK));
      on(ui.fwd, "click", () => this.seek(this.#time() + FORWARD));
      on(ui.rate, "change", () => this.#rate(Number(ui.rate.value), true));
      for (const tab of ui.tabs) {
        on(tab, "click", () => this.#open(tab.dataset.panel, true));
      }
      on(ui.range, "input", () => this.seek(Number(ui.range.value)));
      on(ui.range, "keydown", (event) => this.#seekKey(event));
      on(ui.chapters, "click", (event) => this.#jump(event, this.#manifest.chapters));
      on(ui.transcript, "click", (event) => this.#jump(event, this.#manifest.sentences));
      on(ui.transcript, "keydown", (event) => this.#rove(event));
      on(ui.transcript, "focusin", (event) => this.#roveTo(event.target));
      for (const type of ["wheel", "touchmove", "keydown", "pointerdown"]) {
        on(ui.transcript, type, () => (this.#browsed = Date.now()), { passive: true });
      }
      on(ui.next, "click", () => this.#advance(this.#next));
      on(ui.cancel, "click", () => {
        this.#stopCountdown("Canceled.");
        (ui.next.hidden ? ui.play : ui.next).focus();
      });
      on(ui.mback, "click", () => {
        this.#root.scrollIntoView({ block: "center", behavior: reduced() ? "auto" : "smooth" });
        ui.play.focus({ preventScroll: true });
      });
      on(ui.mclose, "click", () => {
        this.#closed = true;
        this.#sticky();
        ui.play.focus({ preventScroll: true });
      });
      // The mini-player shows while the player itself is out of view.
      this.#io = new IntersectionObserver(([entry]) => {
        this.#away = !entry.isIntersecting;
        if (!this.#away) this.#closed = false;
        this.#sticky();
      });
      // Read-along: a click (or Enter, with read-along-keys) on a matched block of the page.
      this.#onPage = (event) => {
        const page = this.#page;
        const node = event.target.closest("[data-listen-block]");
        const b = node ? Number(node.dataset.listenBlock) : -1;
        if (!page || page.found[b] !== node || event.defaultPrevented) return;
        if (event.type === "keydown") {
          if (event.key !== "Enter" || event.target !== node) return;
          event.preventDefault();
        } else if (skipped(event.target, page.root) || !getSelection().isCollapsed) {
          return; // a link or a control inside it, or the reader was selecting text
        }
        this.seek(this.#manifest.sentences[page.of[b][0]].start_ms / 1000);
        this.play();
      };

      on(a, "play", () => {
        this.#playing(true);
        this.#emit("play");
      });
      on(a, "pause", () => {
        this.#playing(false);
        if (!a.ended) this.#emit("pause");
      });
      on(a, "ended", () => this.#ended());
      on(a, "waiting", () => this.#root.classList.add("is-waiting"));
      on(a, "playing", () => this.#root.classList.remove("is-waiting"));
      on(a, "ratechange", () => {
        ui.rate.value = a.playbackRate;
        if (this.#live && a.playbackRate !== this.#told) {
          this.#emit("ratechange", { rate: (this.#told = a.playbackRate) });
        }
      });
      on(a, "error", () => {
        this.#root.classList.remove("is-waiting");
        this.#fail("The audio could not be loaded.");
      });
      for (const type of ["timeupdate", "seeking", "seeked", "durationchange"]) {
        on(a, type, () => this.#update());
      }
      on(window, "pagehide", () => this.#save(true));
      this.#open(this.getAttribute("open"));
    }

    async #load() {
      const src = this.getAttribute("src");
      if (!src) return;
      const token = (this.#loading = {});
      let manifest;
      let url;
      try {
        url = new URL(src, document.baseURI);
        const response = await fetch(url);
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        manifest = await response.json();
        if (!manifest.audio || !(manifest.duration_ms > 0)) throw new Error("not a manifest");
      } catch (error) {
        if (token !== this.#loading) return;
        this.#loading = null;
        this.#root.classList.add("is-error");
        this.#ui.title.textContent = "This audio is not available.";
        this.#fail(`Could not load ${src}: ${error.message}`);
        return;
      }
      if (token !== this.#loading) return;
      this.#loading = null;
      this.#show(manifest, url);
    }

    // The playlist for "Up next": its episodes, each with its manifest's absolute URL.
    async #loadList() {
      const src = this.getAttribute("playlist");
      if (!src) return;
      let list = [];
      try {
        const url = new URL(src, document.baseURI);
        const data = await (await fetch(url)).json();
        list = data.episodes.map((e) => ({ ...e, href: new URL(e.manifest, url).href.split("#")[0] }));
      } catch {
        // No playlist: no "Up next".
      }
      this.#list = list;
      this.#upNext();
    }

    #show(m, url) {
      const ui = this.#ui;
      const a = this.#media;
      m.chapters = array(m.chapters);
      m.sentences = array(m.sentences);
      m.blocks = array(m.blocks);
      this.#stopCountdown(); // (a site script may change src while it counts down)
      this.#manifest = m;
      this.#duration = m.duration_ms / 1000;
      this.#key = url.href.split("#")[0];
      this.#chapter = this.#sentence = -2;
      this.#live = this.#engaged = false;
      this.#marks = new Set();
      this.#root.classList.remove("is-error");
      // Article text is spoken in the article's language; the controls stay in English.
      for (const node of [ui.title, ui.now, ui.chapters, ui.transcript, ui.mtitle]) {
        node.lang = m.language || "";
      }

      const audio = new URL(m.audio, url).href;
      a.src = audio;
      ui.title.textContent = ui.mtitle.textContent = titleOf(m);
      ui.title.title = m.title || "";
      ui.length.textContent = ` · ${minutes(this.#duration)}`;
      ui.range.max = this.#duration;
      ui.download.href = audio;
      set(ui.download, "download", m.audio);
      const type = (m.mime_type || "").includes("mp4") ? "M4A" : "MP3";
      const size = m.audio_bytes > 0 ? `, ${megabytes(m.audio_bytes)}` : "";
      set(ui.download, "aria-label", `Download audio (${type}${size})`);
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
          const chapter = button("lp-chapter", null, i);
          // Read as "2. Title, 1:36": the punctuation is for screen readers only.
          chapter.append(
            el("span", "lp-n", i + 1),
            el("span", "lp-sr", ". "),
            el("span", "lp-name", c.title),
            el("span", "lp-sr", ", "),
            el("span", "lp-at", clock(c.start_ms / 1000)),
          );
          const item = el("li");
          item.append(chapter);
          return item;
        }),
      );
      this.#transcript();
      this.#chapterButtons = [...ui.chapters.querySelectorAll("button")];
      for (const control of ui.controls) control.disabled = false;
      ui.tabs[0].disabled = !m.chapters.length;
      ui.tabs[1].disabled = !m.sentences.length;
      if (ui.tabs[0].disabled && this.#panel === "chapters") this.#open(null);

      const saved = Number(store(`pos:${this.#key}`));
      if (saved > 1 && saved < this.#duration - 5) a.currentTime = saved;
      this.#matchPage();
      this.#update(true);
      this.#roveTo(this.#lines[Math.max(0, this.#sentence)]);
      this.#follow(true);
      this.#upNext();
      this.#live = true;
      this.#told = a.playbackRate;
      this.#emit("ready");
      if (this.#autoplay) {
        this.#autoplay = false;
        this.play();
      }
    }

    // The transcript: a list of sentences per chapter under its heading. A heading is shown
    // once, as a heading: the sentences that announce it ("Chapter 2.", the heading read
    // aloud) are that heading, not lines of their own.
    #transcript() {
      const m = this.#manifest;
      const ui = this.#ui;
      const kind = (s) => (s && m.blocks[s.block] ? m.blocks[s.block].kind : "");
      const line = (text, i) => {
        const node = button("lp-line", text, i);
        node.tabIndex = -1;
        return node;
      };
      const groups = m.chapters.length ? m.chapters : [{ title: "" }];
      this.#lines = [];
      this.#stops = [];
      ui.transcript.replaceChildren(
        ...groups.map((c, ci) => {
          const group = el("div", "lp-group");
          const list = el("ol", "lp-list");
          let head = null;
          set(list, "aria-label", c.title || "Transcript");
          m.sentences.forEach((s, i) => {
            if ((s.chapter || 0) !== ci && groups.length > 1) return;
            // (A manifest made before blocks were recorded keeps its headings as sentences.)
            const heading =
              /^(title|heading)$/.test(kind(s)) ||
              (s.block == null && kind(m.sentences[i + 1]) === "heading");
            if (heading && !list.firstChild) {
              if (!head) this.#stops.push((head = line(c.title || s.text, i)));
              this.#lines[i] = head;
              return;
            }
            const node = line(s.text, i);
            this.#lines[i] = node;
            this.#stops.push(node);
            const item = el("li");
            item.append(node);
            list.append(item);
          });
          const title = el("div", "lp-heading", head ? null : c.title);
          set(title, "role", "heading");
          set(title, "aria-level", 3);
          if (head) title.append(head);
          // Without a heading of its own, the lead chapter is titled by the player's title.
          if (head || (ci > 0 && c.title)) group.append(title);
          if (list.firstChild) group.append(list);
          return group;
        }),
      );
    }

    // A feature turned off by its attribute: sticky="false" and the like.
    #off(name) {
      return this.getAttribute(name) === "false";
    }

    #time() {
      return Math.min(this.#media.currentTime || 0, this.#duration || 0);
    }

    #emit(type, more) {
      const detail = { manifest: this.#key, currentTime: this.#time(), duration: this.#duration };
      const event = { bubbles: true, composed: true, detail: { ...detail, ...more } };
      this.dispatchEvent(new CustomEvent(`listen:${type}`, event));
    }

    play() {
      if (!this.#manifest) return;
      const promise = this.#media.play();
      if (promise) {
        promise.catch((error) => {
          if (error.name !== "AbortError") this.#fail(`Playback failed: ${error.message}`);
        });
      }
    }

    pause() {
      if (this.#media) this.#media.pause();
    }

    seek(seconds) {
      if (!this.#manifest) return;
      const from = this.#time();
      const to = Math.max(0, Math.min(seconds, this.#duration));
      this.#media.currentTime = to;
      this.#engaged = true;
      this.#update(true);
      // One listen:seek per gesture: dragging the seek bar or holding an arrow key seeks often.
      const gesture = (this.#seeking = this.#seeking || { from });
      gesture.to = to;
      clearTimeout(gesture.timer);
      gesture.timer = setTimeout(() => {
        this.#seeking = null;
        this.#emit("seek", { from: gesture.from, to: gesture.to });
      }, 300);
    }

    #seekKey(event) {
      const t = this.#time();
      const moves = {
        ArrowLeft: t - 5,
        ArrowDown: t - 5,
        ArrowRight: t + 5,
        ArrowUp: t + 5,
        PageDown: t - 30,
        PageUp: t + 30,
        Home: 0,
        End: this.#duration,
      };
      if (!(event.key in moves) || modified(event)) return;
      event.preventDefault();
      this.seek(moves[event.key]);
    }

    #jump(event, items) {
      const button = event.target.closest("button[data-i]");
      if (!button || !this.#manifest) return;
      this.seek(items[Number(button.dataset.i)].start_ms / 1000);
      this.play();
    }

    #rate(value, chosen) {
      if (!SPEEDS.includes(value)) value = 1;
      this.#media.defaultPlaybackRate = this.#media.playbackRate = value;
      this.#ui.rate.value = value;
      if (chosen) store("rate", String(value));
    }

    #open(name, toggle) {
      if (toggle && name === this.#panel) name = null;
      if (!this.#ui.tabs.some((tab) => tab.dataset.panel === name)) name = null;
      this.#panel = name;
      for (const tab of this.#ui.tabs) {
        set(tab, "aria-expanded", tab.dataset.panel === name);
      }
      for (const panel of this.#ui.panels) panel.hidden = panel.dataset.panel !== name;
      if (name === "transcript") this.#follow(true);
    }

    #playing(on) {
      const ui = this.#ui;
      for (const node of [this.#root, ui.mini]) node.classList.toggle("is-playing", on);
      if (!on) this.#root.classList.remove("is-waiting");
      for (const node of [ui.play, ui.mplay]) set(node, "aria-label", on ? "Pause" : "Play");
      this.#save(true);
      if (on) {
        this.#started = this.#engaged = true;
        this.#stopCountdown();
        this.#readAt();
        for (const other of document.querySelectorAll(NAME)) {
          if (other !== this && other.pause) other.pause();
        }
        this.#session();
      }
      this.#sticky();
    }

    #ended() {
      store(`pos:${this.#key}`, null);
      store(`done:${this.#key}`, "1");
      this.#engaged = false;
      this.#update();
      this.#emit("ended");
      const next = this.#upNext();
      if (next && !this.#off("autoadvance")) this.#countdown(next);
      this.#sticky();
    }

    // The next playlist episode not listened to on this browser: after this one in the list
    // (newest first, so older ones), then from the top.
    #upNext() {
      const ui = this.#ui;
      const list = this.#list || [];
      const at = list.findIndex((e) => e.href === this.#key);
      const next = [...list.slice(at + 1), ...list].find(
        (e) => e.href !== this.#key && !store(`done:${e.href}`),
      );
      this.#next = next;
      ui.next.hidden = !next;
      if (next) {
        ui.next.firstChild.textContent = titleOf(next);
        ui.next.lastChild.textContent = next.duration ? ` · ${minutes(next.duration)}` : "";
      }
      if (!this.#timer) ui.upnext.textContent = next || !this.#list ? "Up next" : "Up next: nothing new";
      return next;
    }

    #countdown(next) {
      const ui = this.#ui;
      let left = COUNTDOWN;
      const tick = () => {
        if (!left) return this.#advance(next);
        ui.upnext.textContent = `Next in ${left--} s`;
      };
      ui.cancel.hidden = false;
      ui.status.textContent = `Next in ${COUNTDOWN} seconds: ${titleOf(next)}.`;
      tick();
      this.#timer = setInterval(tick, 1000);
    }

    #stopCountdown(note) {
      if (!this.#timer) return;
      clearInterval(this.#timer);
      this.#timer = null;
      this.#ui.cancel.hidden = true;
      if (note) this.#ui.status.textContent = note;
      this.#upNext();
      this.#sticky();
    }

    #advance(next) {
      if (!next) return;
      this.#stopCountdown();
      this.#emit("next", { manifest: next.href });
      this.#autoplay = true;
      set(this, "src", next.href);
    }

    #sticky() {
      const on =
        !this.#off("sticky") &&
        this.#away &&
        this.#started &&
        !this.#closed &&
        (!this.#media.ended || this.#timer);
      this.#ui.mini.hidden = !on;
    }

    // The lock screen and media keys control whichever player played last.
    #session() {
      const session = navigator.mediaSession;
      if (!session || !window.MediaMetadata) return;
      const m = this.#manifest;
      session.metadata = new MediaMetadata({ title: m.title || "", artist: m.byline || "" });
      const chapterAt = (step) => {
        const list = m.chapters;
        const i = indexAt(list, this.#time() * 1000 + (step < 0 ? -3000 : 0)) + step;
        if (list[i]) this.seek(list[i].start_ms / 1000);
      };
      const actions = {
        play: () => this.play(),
        pause: () => this.pause(),
        seekbackward: (d) => this.seek(this.#time() - (d.seekOffset || BACK)),
        seekforward: (d) => this.seek(this.#time() + (d.seekOffset || FORWARD)),
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

    #update(announce) {
      const ui = this.#ui;
      const m = this.#manifest;
      const a = this.#media;
      if (!m) return;
      const t = this.#time();
      const ms = t * 1000;
      ui.range.value = t;
      for (const bar of [ui.range, ui.mline]) bar.style.setProperty("--lp-f", this.#duration ? t / this.#duration : 0);
      ui.elapsed.textContent = clock(t);
      ui.left.textContent = `−${clock(Math.round(this.#duration) - Math.floor(t))}`;
      // While the seek bar has focus its value text changes only when the listener moves it.
      if (announce || document.activeElement !== ui.range) {
        set(ui.range, "aria-valuetext", `${spoken(t)} of ${spoken(this.#duration)}`);
      }

      const chapter = indexAt(m.chapters, ms);
      if (chapter !== this.#chapter) {
        this.#mark(this.#chapterButtons[this.#chapter], this.#chapterButtons[chapter]);
        this.#chapter = chapter;
        const c = m.chapters[chapter];
        ui.now.textContent = c && chapter > 0 ? c.title : "";
        ui.now.title = ui.now.textContent;
        if (this.#live && c) this.#emit("chapter", { index: chapter, title: c.title });
      }
      const sentence = indexAt(m.sentences, ms);
      if (sentence !== this.#sentence) {
        this.#mark(this.#lines[this.#sentence], this.#lines[sentence]);
        this.#sentence = sentence;
        if (!ui.transcript.contains(document.activeElement)) this.#roveTo(this.#lines[sentence]);
        this.#follow();
      }
      this.#readAt();
      this.#save();
      // Listen-through: a mark counts when playback reaches it, not when a seek jumps past it.
      const from = this.#from;
      this.#from = t;
      if (a.paused || a.seeking || !(t > from && t - from < 4)) return;
      for (const percent of MARKS) {
        const at = (this.#duration * percent) / 100;
        if (from < at && t >= at && !this.#marks.has(percent)) {
          this.#marks.add(percent);
          this.#emit("progress", { percent });
        }
      }
    }

    #mark(before, after) {
      if (before) set(before, "aria-current");
      if (after) set(after, "aria-current", "true");
    }

    // Keep the spoken sentence in view inside the transcript panel (never scrolls the page),
    // unless the listener has been browsing the transcript in the last few seconds.
    #follow(force) {
      const panel = this.#ui.transcript;
      const node = this.#lines && this.#lines[this.#sentence];
      if (panel.hidden || !node || (!force && Date.now() - (this.#browsed || 0) < 4000)) return;
      const top = Math.max(0, node.offsetTop - panel.clientHeight / 3);
      const far = Math.abs(top - panel.scrollTop) > 2 * panel.clientHeight;
      panel.scrollTo({ top, behavior: force || far || reduced() ? "auto" : "smooth" });
    }

    // The transcript is one tab stop; arrow keys, Home and End move between its sentences.
    #roveTo(target) {
      if (!target || !target.classList.contains("lp-line")) return;
      if (this.#roving && this.#roving !== target) this.#roving.tabIndex = -1;
      this.#roving = target;
      target.tabIndex = 0;
    }

    #rove(event) {
      const stops = this.#stops;
      const i = stops.indexOf(event.target);
      if (i < 0) return;
      const moves = { ArrowDown: i + 1, ArrowRight: i + 1, ArrowUp: i - 1, ArrowLeft: i - 1 };
      Object.assign(moves, { Home: 0, End: stops.length - 1 });
      const next = stops[moves[event.key]];
      if (!(event.key in moves) || modified(event)) return;
      event.preventDefault();
      if (!next) return;
      this.#roveTo(next);
      next.focus();
    }

    // Read-along in the host page: find the manifest's blocks among the article's paragraphs,
    // list items and headings by their text's fingerprint, else (a paragraph whose markup adds
    // words, such as footnote markers) by its sentences, in order. It reads only textContent:
    // nothing is laid out, and what does not match is left alone.
    #matchPage() {
      this.#unmatch();
      const m = this.#manifest;
      const selector = this.getAttribute("article");
      if (!m.blocks.length) return;
      const of = m.blocks.map(() => []);
      m.sentences.forEach((s, i) => of[s.block] && of[s.block].push(i));
      const $ = (selector) => document.querySelector(selector);
      let roots;
      try {
        roots = selector
          ? [$(selector)]
          : [this.closest("article"), $("article"), $("main"), document.body];
      } catch {
        return; // not a selector
      }
      for (const root of roots) {
        const found = root ? this.#match(root, of) : [];
        if (!found.length) continue;
        const keys = this.hasAttribute("read-along-keys");
        this.#page = { root, found, of, ranges: [], tabbed: [] };
        found.forEach((node, b) => {
          set(node, "data-listen-block", b);
          if (keys && !node.hasAttribute("tabindex")) {
            node.tabIndex = 0;
            set(node, "aria-describedby", this.#hint);
            this.#page.tabbed.push(node);
          }
        });
        on(root, "click", this.#onPage);
        on(root, "keydown", this.#onPage);
        return;
      }
    }

    // found[block] = the element of `root` that reads as the manifest's block.
    #match(root, of) {
      const m = this.#manifest;
      const wanted = new Map();
      m.blocks.forEach((b, i) => {
        if (of[i].length) wanted.set(b.fingerprint, [...(wanted.get(b.fingerprint) || []), i]);
      });
      // The page's own prose: not in a link, a form or another player, and not mostly links
      // (a table of contents, "Read more"), as for the extractor.
      const prose = (node, k) => {
        const links = [...node.querySelectorAll("a")].map((link) => link.textContent).join("");
        return !skipped(node, root) && key(links).length * 2 <= k.length;
      };
      const found = [];
      const seen = [];
      const where = [];
      let inside = null;
      for (const node of root.querySelectorAll(BLOCKS)) {
        if (inside && inside.contains(node)) continue;
        // textContent is fast; text node by text node only where there is a citation marker.
        const marked = node.querySelector("sup a");
        const k = key(marked ? texts(node).map((t) => t.data).join("") : node.textContent);
        const same = wanted.get(fingerprint(k));
        const b = same && same.length && prose(node, k) ? same.shift() : -1;
        if (b >= 0) {
          found[b] = inside = node;
          where[b] = seen.length;
        }
        seen.push({ node, k, b });
      }
      // The others: a candidate between the neighbours' matches, of about the block's length,
      // holding at least half of its sentences.
      let at = 0;
      m.blocks.forEach((block, b) => {
        if (found[b]) at = where[b] + 1;
        if (found[b] || !of[b].length) return;
        const length = parseInt(block.fingerprint, 16);
        for (let j = at; j < seen.length && seen[j].b < 0; j++) {
          const { node, k } = seen[j];
          if (k.length < length / 2 || k.length > length * 2 || !prose(node, k)) continue;
          const held = of[b].filter((i) => k.includes(key(m.sentences[i].text))).length;
          if (held * 2 >= of[b].length) {
            seen[j].b = b;
            found[b] = node;
            at = j + 1;
            break;
          }
        }
      });
      return found;
    }

    #unmatch() {
      const page = this.#page;
      if (!page) return;
      this.#page = null;
      this.#readAt();
      page.root.removeEventListener("click", this.#onPage);
      page.root.removeEventListener("keydown", this.#onPage);
      page.found.forEach((node) => set(node, "data-listen-block"));
      for (const node of page.tabbed) {
        set(node, "tabindex");
        set(node, "aria-describedby");
      }
    }

    // Mark the block being read (data-listen-current) and highlight its sentence (the CSS
    // Custom Highlight API; without it, the block alone), once playback has begun.
    #readAt() {
      const page = this.#page;
      const s = page && this.#engaged ? this.#sentence : -1;
      if (s === this.#shown) return;
      this.#shown = s;
      const b = s >= 0 ? this.#manifest.sentences[s].block : null;
      const node = (b != null && page.found[b]) || null;
      if (this.#current !== node) {
        if (this.#current) set(this.#current, "data-listen-current");
        if (node) set(node, "data-listen-current", "");
        this.#current = node;
      }
      const highlights = window.CSS && CSS.highlights;
      if (!highlights || !window.Highlight) return;
      if (node && !page.ranges[b]) page.ranges[b] = this.#locate(node, page.of[b]);
      const range = node && page.ranges[b][page.of[b].indexOf(s)];
      if (range) highlights.set(HIGHLIGHT, new Highlight(range));
      else if (this.#lit) highlights.delete(HIGHLIGHT);
      this.#lit = !!range;
    }

    // Each sentence's Range in a block: its key found, in order, in the block's text; null
    // where it is not (the page was edited since the render).
    #locate(node, sentences) {
      let text = "";
      const at = [];
      for (const t of texts(node)) {
        let i = 0;
        for (const c of t.data) {
          const k = key(c);
          for (let j = 0; j < k.length; j++) at.push([t, i, i + c.length]);
          text += k;
          i += c.length;
        }
      }
      let from = 0;
      return sentences.map((i) => {
        const k = key(this.#manifest.sentences[i].text);
        if (!k) return null;
        const start = text.indexOf(k, from);
        const end = start + k.length;
        if (start < 0) return null;
        from = end;
        const range = document.createRange();
        const [first, offset] = at[start];
        const [last, , stop] = at[end - 1];
        range.setStart(first, widen(first, offset, -1));
        range.setEnd(last, widen(last, stop, 1));
        return range;
      });
    }

    #save(now) {
      if (!this.#key) return;
      const t = this.#time();
      if (!now && Math.abs(t - (this.#saved || 0)) < 5) return;
      this.#saved = t;
      store(`pos:${this.#key}`, t > 1 && t < this.#duration - 5 ? t.toFixed(1) : null);
    }

    #fail(message) {
      this.#ui.status.textContent = message;
      this.#ui.now.textContent = message;
    }
  }

  customElements.define(NAME, ListenPlayer);
})();
