// Glue for the /demo page (its CSP forbids inline scripts). Loaded after share.js, both deferred.
(() => {
  'use strict';
  const status = document.getElementById('demo-status');
  const show = m => { status.textContent = m; };
  const report = (what, call) => {
    const st = window.sharetrail;
    (st ? call(st) : Promise.reject(new Error('the share script did not load')))
      .then(() => show(what + ' recorded. Thank you!'), e => show(what + ' not recorded: ' + e.message));
  };

  document.getElementById('heard-form').addEventListener('submit', e => {
    e.preventDefault();
    const f = e.target;
    const answer = f.elements.answer.value.trim();
    if (!answer) return;
    report('Answer', st => st.heardFrom(answer, { channel: f.elements.channel.value || null }));
    f.reset();
  });

  document.getElementById('signup').addEventListener('click', () => {
    report('Sign-up', st => st.convert('signup', { value: 1 }));
  });
})();
