/* The signed-in session that every module reads. `generation` grows at each sign-in and sign-out,
 * so an answer to a request made under an earlier key is recognised and dropped. */

export var session = {
  key: null,
  timer: null,
  generation: 0,
  tab: 'overview',
  lastOk: null,
  lostSince: null,
};
