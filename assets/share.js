/*! sharetrail share buttons. <script src=".../share.js" data-site="pk_..." defer> + <div data-sharetrail>.
 * Reserve the row to avoid layout shift: [data-sharetrail]{min-height:2.5rem} */
(() => {
  'use strict';
  const D = document, W = window, N = navigator, L = location, E = encodeURIComponent;
  const me = D.currentScript;
  if (!me || (W.sharetrail && W.sharetrail.share)) return; // loaded twice: the first one wins
  const API = new URL(me.src).origin + '/api/v1/public/';
  const SITE = me.dataset.site || null;
  // DNT/GPC: keep nothing (no parent, no token); buttons still work.
  const PRIVATE = N.doNotTrack === '1' || W.doNotTrack === '1' || N.globalPrivacyControl === true;
  const IOS = /iP(hone|ad|od)/.test(N.userAgent) || (/Macintosh/.test(N.userAgent) && N.maxTouchPoints > 1);
  const warn = e => console.warn('sharetrail:', (e && e.message) || e);
  if (!SITE) warn('data-site missing: buttons share the plain page URL');

  // [label, colour (4.5:1 under white), web intent | 0 copy | 1 sms | 2 e-mail | 3 share sheet].
  // No share intent: Slack, Signal, Discord; Messenger's needs a Facebook app_id, so it copies.
  const C = {
    whatsapp: ['WhatsApp', '0b7a5f', 'https://wa.me/?text={tu}'],
    telegram: ['Telegram', '1b7ab3', 'https://t.me/share/url?url={u}&text={t}'],
    messenger: ['Messenger', '0866ff', 0],
    signal: ['Signal', '2c66d8', 0],
    sms: ['SMS', '2e7d32', 1],
    email: ['Email', '555', 2],
    slack: ['Slack', '4a154b', 0],
    teams: ['Teams', '5b5fc7', 'https://teams.microsoft.com/share?href={u}&msgText={t}'],
    discord: ['Discord', '5865f2', 0],
    linkedin: ['LinkedIn', '0a66c2', 'https://www.linkedin.com/sharing/share-offsite/?url={u}'],
    x: ['X', '000', 'https://x.com/intent/post?url={u}&text={t}'],
    facebook: ['Facebook', '1461d0', 'https://www.facebook.com/sharer/sharer.php?u={u}'],
    reddit: ['Reddit', 'c33a00', 'https://www.reddit.com/submit?url={u}&title={t}'],
    copy: ['Copy link', '444', 0],
    native: ['Share\u2026', '444', 3],
  };

  const store = (k, v) => {
    try {
      k = 'sharetrail:' + k;
      return v === undefined ? sessionStorage.getItem(k) : sessionStorage.setItem(k, v);
    } catch (e) { return null; }
  };
  const replace = url => { try { history.replaceState(history.state, '', url); } catch (e) {} };

  // The page as shared: no fragment, no `st` and no utm_* (the redirect adds them, and each share
  // gets its own channel's), other parameters byte for byte. One page, one link: the cascade holds.
  const pageUrl = () => {
    const q = L.search.slice(1).split('&').filter(p => p && !/^(st|utm_\w*)$/i.test(p.split('=')[0])).join('&');
    return L.origin + L.pathname + (q ? '?' + q : '');
  };

  // A string body is sent as text/plain: no CORS preflight.
  const post = (path, body, keepalive) =>
    fetch(API + path, { method: 'POST', body: JSON.stringify(body), credentials: 'omit', keepalive: !!keepalive })
      .then(async r => {
        const j = await r.json().catch(() => ({}));
        if (r.ok) return j;
        const e = j.error || {};
        throw Object.assign(new Error(e.message || 'HTTP ' + r.status), { status: r.status, code: e.code, field: e.field });
      });
  // A parent on another page's link is refused: go on as a root.
  const withParent = (path, body) =>
    post(path, body).catch(e => {
      if (!body.parent || e.field !== 'parent') throw e;
      return post(path, Object.assign(body, { parent: null }));
    });

  // The share that brought this visitor (?st=CODE) is the parent of their shares.
  const CODE = /^[\w-]{1,64}$/;
  let arrived = null, tokens = [], ready;
  if (!PRIVATE) {
    const st = new URLSearchParams(L.search).get('st');
    if (st && CODE.test(st)) store('arrived', st);
    arrived = store('arrived');
    try { tokens = [].concat(JSON.parse(store('tokens')) || []); } catch (e) {}
  }

  // Address-bar reshares: #st=PARENT.TOKEN rides along in a copied URL; whoever opens it
  // reports the token, a reload (own token) does not. Other fragments are left alone.
  const FRAG = /^#st=(?:([\w-]{1,64})\.)?([A-Za-z0-9]{12})$/;
  const ABC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const mark = () => {
    let t = '';
    while (t.length < 12) {
      const b = crypto.getRandomValues(new Uint8Array(1))[0];
      if (b < 248) t += ABC[b % 62]; // no modulo bias
    }
    tokens = tokens.concat(t).slice(-20);
    store('tokens', JSON.stringify(tokens));
    replace('#st=' + (arrived ? arrived + '.' : '') + t);
  };
  if (me.dataset.addressBar !== 'off') {
    const m = FRAG.exec(L.hash);
    if (PRIVATE) { if (m) replace(L.pathname + L.search); }
    else if (!L.hash) mark();
    else if (m && !tokens.includes(m[2])) {
      ready = withParent('arrivals', { site: SITE, url: pageUrl(), token: m[2], parent: m[1] || null })
        .then(r => { if (CODE.test(r.code || '')) store('arrived', (arrived = r.code)); }, warn)
        .then(mark);
    }
  }
  ready = Promise.race([ready, new Promise(r => setTimeout(r, 2500))]);

  // Reserve a code ahead, on intent (hover, focus, touch), so the click finds it ready. A
  // reservation counts nowhere: the click sends it, and only then is it a share.
  const reserve = (channel, url) => ready
    .then(() => withParent('shares', { site: SITE, url, channel, parent: arrived, title: D.title, reserve: true }))
    .then(s => Object.assign(s, { url, until: Date.now() + 900 * (s.expires_in || 0) }));
  const fresh = s => s && s.until > Date.now();
  const prime = (el, ch) => {
    if (el._p && (!el._s || fresh(el._s))) return;
    const p = (el._p = reserve(ch, ctx(el).url));
    el._s = null;
    p.then(s => { if (el._p === p) el._s = s; }, () => { if (el._p === p) el._p = null; });
  };
  // keepalive: the report survives leaving the page. Were it lost, the first visit of the short
  // link would count the share all the same; were the reservation gone, the report (with what
  // it was reserved for) mints the share under its code.
  const sendShare = s => s
    ? post('sent', { site: SITE, code: s.code, url: s.url, channel: s.channel, parent: s.parent, title: D.title }, 1)
      .then(() => 'sent', e => (warn(e), 'unreported'))
    : Promise.resolve('no share');
  const unsent = Promise.resolve('not sent');
  const ctx = el => {
    const box = el.closest('[data-sharetrail]');
    const a = k => el.dataset[k] || (box && box.dataset[k]);
    return { url: a('url') ? new URL(a('url'), L.href).href : pageUrl(), text: a('text') || D.title, title: D.title };
  };

  const target = (ch, u, d) => {
    const a = C[ch][2], t = d.text;
    if (a === 1) return 'sms:' + (IOS ? '&' : '?') + 'body=' + E(t + ' ' + u);
    // RFC 6068: spaces %20 (never '+'), line breaks %0D%0A
    if (a === 2) return 'mailto:?subject=' + E(d.title) + '&body=' + E((t + '\n\n' + u).replace(/\r?\n|\r/g, '\r\n'));
    return a.replace ? a.replace(/\{(\w+)\}/g, (_, k) => E(k === 'u' ? u : k === 't' ? t : t + ' ' + u)) : u;
  };

  // A promise-valued ClipboardItem keeps the click's user activation while minting.
  const copy = async textP => {
    try {
      await N.clipboard.write([new ClipboardItem({ 'text/plain': textP.then(t => new Blob([t], { type: 'text/plain' })) })]);
      return true;
    } catch (e) {}
    const t = await textP;
    try { await N.clipboard.writeText(t); return true; } catch (e) {}
    const a = D.createElement('textarea'), f = D.activeElement;
    a.value = t;
    a.readOnly = true;
    a.style.position = 'fixed'; // CSSOM: allowed by CSP
    a.style.opacity = '0';
    D.body.append(a);
    a.select();
    let ok = false;
    try { ok = D.execCommand('copy'); } catch (e) {}
    a.remove();
    if (f) f.focus();
    return ok;
  };

  let live, timer;
  const say = (m, keep) => {
    if (!live) return;
    clearTimeout(timer);
    live.textContent = ''; // so a repeat is announced
    timer = setTimeout(() => {
      live.textContent = m;
      if (!keep) timer = setTimeout(() => (live.textContent = ''), 5000);
    }, 100);
  };

  // Open at once: with the reserved code, or open now and point when it arrives. One share per
  // click, sent once the channel opened (a cancelled share sheet or a failed copy sends
  // nothing); a failed reservation shares the page URL.
  const go = (el, ch, again) => {
    const d = ctx(el), s0 = fresh(el._s) ? el._s : null, a = ch === 'native' && !N.share ? 0 : C[ch][2];
    const sp = (s0 ? Promise.resolve(s0) : (!el._s && el._p) || reserve(ch, d.url))
      .catch(e => (warn('sharing the page URL: ' + e.message), null));
    el._s = el._p = null;
    if (again) prime(el, ch);
    const url = s => target(ch, s ? s.short_url : d.url, d);
    // The hooks (and the promise) tell how it ended, once the click's report is in.
    const done = (s, u, status) => status.then(st => {
      el.dataset.sharetrailLastCode = s ? s.code : '';
      el.dataset.sharetrailLastUrl = u;
      el.dataset.sharetrailLastStatus = st;
      return { code: s ? s.code : null, url: u, status: st };
    });
    if (a === 0) {
      return copy(sp.then(url)).then(async ok => {
        const s = await sp, u = url(s);
        say(ok ? 'Link copied' + (C[ch][2] === 0 && ch !== 'copy' ? ' \u2014 paste it in ' + C[ch][0] : '') : 'Copy this link: ' + u, !ok);
        return done(s, u, ok ? sendShare(s) : unsent);
      });
    }
    if (a === 3) {
      const share = s => {
        const u = url(s);
        return N.share({ title: d.title, text: d.text, url: u }).then(
          () => done(s, u, sendShare(s)),
          e => (e.name === 'NotAllowedError' && say('Press Share again'), done(s, u, unsent)));
      };
      return s0 ? share(s0) : sp.then(share);
    }
    if (s0) {
      const u = url(s0);
      a.replace ? W.open(u, '_blank', 'noopener') : (L.href = u);
      return done(s0, u, sendShare(s0));
    }
    // with 'noopener', window.open returns null
    const w = a.replace && W.open('', '_blank');
    if (w) w.opener = null;
    return sp.then(s => {
      const u = url(s);
      if (w && w.closed) return done(s, u, unsent);
      w ? (w.location.href = u) : (L.href = u);
      return done(s, u, sendShare(s));
    });
  };

  const bind = (el, ch) => {
    if (el._st) return;
    el._st = 1;
    if (ch === 'native' && !N.share) el.hidden = true;
    for (const t of ['pointerenter', 'focus', 'touchstart']) el.addEventListener(t, () => prime(el, ch), { passive: true });
    el.addEventListener('click', e => { e.preventDefault(); go(el, ch, 1); });
  };

  const render = (root = D) => {
    for (const box of root.querySelectorAll('[data-sharetrail]')) {
      if (box._st) continue;
      box._st = 1;
      box.classList.add('st-bar');
      if (!box.getAttribute('role')) box.setAttribute('role', 'group');
      if (!box.getAttribute('aria-label')) box.setAttribute('aria-label', 'Share this page');
      const list = box.dataset.channels || me.dataset.channels || 'whatsapp,telegram,sms,email,slack,linkedin,x,facebook,copy,native';
      for (let ch of list.split(',')) {
        ch = ch.trim();
        const c = C[ch];
        if (!c) { warn('unknown channel ' + ch); continue; }
        if (ch === 'native' && !N.share) continue;
        const b = D.createElement('button');
        b.type = 'button';
        b.className = 'st-b st-' + ch;
        b.textContent = c[0];
        if (ch !== 'copy') b.setAttribute('aria-label', (ch === 'native' ? 'Share\u2026 with an app' : 'Share ' + (c[2] > 0 ? 'by ' : 'on ') + c[0]) + (c[2] === 0 ? ', copies the link' : ''));
        bind(b, ch);
        box.append(b);
      }
    }
    for (const el of root.querySelectorAll('[data-sharetrail-channel]')) {
      if (C[el.dataset.sharetrailChannel]) bind(el, el.dataset.sharetrailChannel);
    }
  };

  const css = `.st-bar{display:flex;flex-wrap:wrap;align-items:center;gap:var(--sharetrail-gap,.5rem);min-height:2.5rem}
.st-b{box-sizing:border-box;height:2.5rem;margin:0;padding:0 1rem;border:1px solid transparent;border-radius:var(--sharetrail-radius,.5rem);background:var(--sharetrail-bg,var(--c));color:var(--sharetrail-fg,#fff);font:600 var(--sharetrail-font-size,.875rem)/1 system-ui,sans-serif;white-space:nowrap;cursor:pointer;transition:box-shadow .15s}
.st-b:hover{box-shadow:inset 0 0 0 9em #fff3}
.st-b:focus-visible{outline:3px solid var(--sharetrail-focus,#1a73e8);outline-offset:2px}
.st-toast{position:fixed;z-index:2147483647;left:50%;bottom:1.5rem;transform:translateX(-50%);max-width:90vw;padding:.75rem 1rem;border-radius:.5rem;background:#1b1f24;color:#fff;font:.875rem/1.4 system-ui,sans-serif;overflow-wrap:anywhere;transition:opacity .2s}
.st-toast:empty{opacity:0;pointer-events:none}
@media (prefers-reduced-motion:reduce){.st-b,.st-toast{transition:none}}
${Object.keys(C).map(k => `.st-${k}{--c:#${C[k][1]}}`).join('')}`;

  const init = () => {
    try { // constructable sheets pass CSP style-src
      const s = new CSSStyleSheet();
      s.replaceSync(css);
      D.adoptedStyleSheets = [...D.adoptedStyleSheets, s];
    } catch (e) {}
    live = D.createElement('div');
    live.className = 'st-toast';
    live.setAttribute('role', 'status');
    live.setAttribute('aria-live', 'polite');
    D.body.append(live);
    render();
    ready.then(() => (D.documentElement.dataset.sharetrailReady = 'true'));
  };

  // keepalive: survives a submit's page unload
  const send = (path, body) => ready.then(() => post(path, Object.assign({ site: SITE, url: pageUrl(), code: arrived }, body), 1));
  W.sharetrail = {
    convert: (name, o = {}) => send('conversions', { name: String(name), value: Number.isFinite(o.value) ? o.value : null }),
    heardFrom: (answer, o = {}) => send('heard', { answer: String(answer), channel: o.channel || null }),
    share: ch => (C[ch] ? go(D.createElement('i'), ch) : Promise.reject(new Error('unknown channel ' + ch))),
    render,
  };
  D.readyState === 'loading' ? D.addEventListener('DOMContentLoaded', init) : init();
})();
