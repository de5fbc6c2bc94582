/* The tab bar. The open tab is kept in the address (#messages) so a reload opens it again. */
import { show } from './dom.js';
import { schedule } from './polling.js';
import { session } from './session.js';

export function selectTab(tab) {
  session.tab = tab;
  Array.prototype.forEach.call(document.querySelectorAll('[data-tab]'), function (button) {
    var active = button.getAttribute('data-tab') === tab;
    button.classList.toggle('active', active);
    button.setAttribute('aria-selected', active ? 'true' : 'false');
  });
  Array.prototype.forEach.call(document.querySelectorAll('[data-panel]'), function (panel) {
    show(panel, panel.getAttribute('data-panel') === tab);
  });
  if (window.location.hash !== '#' + tab) {
    window.history.replaceState(null, '', '#' + tab);
  }
  if (session.key) schedule(0);
}
