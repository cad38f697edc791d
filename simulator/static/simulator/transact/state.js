/*
 * What every screen shares: the config, the session, the task under way.
 */

export const state = {
  config: null,
  lang: "en",
  hId: "",
  token: "",
  session: null,
  handshakeDone: false,
  // Bumped on every screen change; async work started for an older screen stops.
  screen: 0,
  task: null,
};
