/* One timer refreshes whatever the open tab shows, every 2 s, and again at once after an action. */
import { session } from './session.js';

var POLL_MS = 2000;

/* Which requests a refresh makes is decided by the page, which knows every section; this module
 * knows none, so the sections that ask for a refresh can depend on it. */
var jobsOfTick = function () {
  return [];
};

export function pollWith(jobs) {
  jobsOfTick = jobs;
}

export function schedule(delay) {
  if (session.timer) clearTimeout(session.timer);
  session.timer = setTimeout(tick, delay);
}

function tick() {
  session.timer = null;
  var generation = session.generation;
  var jobs = jobsOfTick();
  Promise.all(
    jobs.map(function (job) {
      return job.catch(function () {});
    }),
  ).then(function () {
    if (generation === session.generation && session.key) schedule(POLL_MS);
  });
}
