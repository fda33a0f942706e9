// The REST API as the dashboard calls it: the key from this tab's sessionStorage (kept for the
// tab only), every error turned into an ApiError with the API's stable code, and job events
// read as server-sent events over fetch (EventSource cannot send an Authorization header).
const KEY = "proofmesh.api_key";

export const key = {
  get: () => sessionStorage.getItem(KEY) || "",
  set: (value) => value ? sessionStorage.setItem(KEY, value) : sessionStorage.removeItem(KEY),
};

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function headers(extra = {}) {
  const h = {...extra};
  if (key.get()) h.Authorization = `Bearer ${key.get()}`;
  return h;
}

async function failure(response) {
  let code = "http_" + response.status, message = response.statusText || "request failed";
  try {
    const body = await response.json();
    if (body && body.error) {
      code = body.error.code || code;
      message = body.error.message || message;
    }
  } catch (_) { /* not JSON: keep the status line */
  }
  return new ApiError(response.status, code, message);
}

/** GET (or another method) of a JSON endpoint; throws ApiError. */
export async function api(path, {method = "GET", body, signal} = {}) {
  let response;
  try {
    response = await fetch(path, {
      method,
      signal,
      headers: headers(body === undefined ? {} : {"Content-Type": "application/json"}),
      body: body === undefined ? undefined :
                                 (typeof body === "string" ? body : JSON.stringify(body)),
    });
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new ApiError(0, "unreachable", `the gateway did not answer: ${e.message}`);
  }
  if (!response.ok) throw await failure(response);
  return response.status === 204 ? null : response.json();
}

/**
 * A job's events, each {id, data} with data parsed, from the start; resumes after the last id
 * when the connection drops, until the stream ends (the job's end) or `signal` aborts.
 */
export async function events(jobId, onEvent, signal) {
  let after = "0";
  let failures = 0; // in a row: the wait before trying again doubles, up to 5 s
  while (!signal.aborted) {
    let response;
    try {
      response = await fetch(
          `/v1/jobs/${encodeURIComponent(jobId)}/events?after=${after}`,
          {headers: headers({Accept: "text/event-stream"}), signal});
    } catch (e) {
      if (signal.aborted) return;
      await new Promise((r) => setTimeout(r, Math.min(5000, 500 * 2 ** failures++)));
      continue;
    }
    failures = 0;
    if (response.status === 204) return;  // finished, and we have everything
    if (!response.ok) throw await failure(response);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      let chunk;
      try {
        chunk = await reader.read();
      } catch (e) {
        if (signal.aborted) return;
        break;  // dropped: resume after the last id
      }
      if (chunk.done) return;
      buffer += chunk.value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let id = "", data = "";
        for (const line of frame.split("\n")) {
          if (line.startsWith("id: "))
            id = line.slice(4);
          else if (line.startsWith("data: "))
            data += line.slice(6);
        }
        if (!data) continue;
        if (id) after = id;
        try {
          onEvent({id, data: JSON.parse(data)});
        } catch (_) { /* a bad event: skip */
        }
      }
    }
  }
}
