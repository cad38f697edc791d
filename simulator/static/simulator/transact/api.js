/*
 * The simulator's /transact/api/* endpoints, called with the public token. A 401 or 403
 * shows the expiry screen; every other failure is an ApiError with a sentence to show.
 */

import { showExpired } from "./layout.js";
import { state } from "./state.js";
import { t } from "./strings.js";

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export async function api(method, path, body) {
  const headers = { "x-public-token": state.token, Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, t("networkError"));
  }
  let data = {};
  try {
    data = await response.json();
  } catch {
    data = {};
  }
  if (!response.ok) {
    if (response.status === 401 || response.status === 403) {
      showExpired();
      throw new ApiError(response.status, "");
    }
    throw new ApiError(response.status, data.message || t("somethingWrong"));
  }
  return data;
}
