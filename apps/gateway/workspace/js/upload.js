/* Large files go to the gateway in chunks (POST /v1/attachments, PUT each chunk, complete).
 * A chunk that fails (a dropped connection, a gateway restarting) is sent again after a
 * growing pause; when retries run out the upload pauses and `resume` carries on from the
 * chunks the gateway says are still missing, so nothing already sent is sent twice. */
import { api, csrfHeaders, errorText } from './api.js';
import { el } from './dom.js';

var RETRIES = 5;
var FIRST_PAUSE_MS = 400;

function pause(ms) {
  return new Promise(function (resolve) {
    setTimeout(resolve, ms);
  });
}

async function putChunk(upload, file, index) {
  var start = index * upload.chunkSize;
  var chunk = file.slice(start, Math.min(start + upload.chunkSize, file.size));
  try {
    var response = await fetch('/v1/attachments/' + upload.id + '/chunks/' + index, {
      method: 'PUT',
      headers: Object.assign({ 'Content-Type': 'application/octet-stream' }, csrfHeaders()),
      body: chunk,
      credentials: 'same-origin',
      cache: 'no-store',
    });
    if (response.ok) return { ok: true, bytes: chunk.size };
    var body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    // 4xx other than a timeout or throttling will not get better by trying again.
    var retry = response.status >= 500 || response.status === 408 || response.status === 429;
    return { ok: false, retry: retry, error: errorText(response.status, body) };
  } catch {
    return { ok: false, retry: true, error: 'the connection to the gateway dropped' };
  }
}

function indexesOf(ranges) {
  var indexes = [];
  ranges.forEach(function ([first, last]) {
    for (var i = first; i <= last; i++) indexes.push(i);
  });
  return indexes;
}

/** A progress bar for one file, with a line that says how far it got and what went wrong. */
export function progressBar(file) {
  var bar = el('progress', { max: file.size, value: 0, dataset: { testid: 'upload-progress' } });
  var line = el('span', { className: 'upload-line', dataset: { testid: 'upload-status' } }, [
    file.name + ': starting',
  ]);
  var resume = el(
    'button',
    { type: 'button', className: 'quiet', hidden: true, dataset: { testid: 'upload-resume' } },
    ['Resume'],
  );
  var label = 'Upload of ' + file.name;
  bar.setAttribute('aria-label', label);
  return {
    node: el('div', { className: 'upload', role: 'group', 'aria-label': label }, [
      bar,
      line,
      resume,
    ]),
    resume: resume,
    show: function (done, text) {
      bar.value = done;
      line.textContent =
        file.name + ': ' + (text || Math.floor((100 * done) / Math.max(file.size, 1)) + '%');
    },
  };
}

/**
 * Uploads one file; resolves {ok:true, id, sha256} once the gateway holds it whole, or
 * {ok:false, error} when it cannot (a refusal, or the person gave up on a paused upload).
 */
export async function uploadFile(file, bar) {
  var started = await api('POST', '/v1/attachments', {
    filename: file.name,
    mediaType: file.type || 'application/octet-stream',
    size: file.size,
  });
  if (!started.ok)
    return { ok: false, error: file.name + ': ' + errorText(started.status, started.body) };
  var upload = started.body;
  var pending = indexesOf(upload.missingChunks);
  var sentBytes = function () {
    return pending.reduce(function (sum, index) {
      return sum - Math.min(upload.chunkSize, file.size - index * upload.chunkSize);
    }, file.size);
  };
  var done = sentBytes();
  for (;;) {
    var failure = null;
    while (pending.length && !failure) {
      var index = pending[0];
      var attempt = 0;
      var sent;
      for (;;) {
        sent = await putChunk(upload, file, index);
        if (sent.ok || !sent.retry || attempt >= RETRIES) break;
        bar.show(done, 'connection lost, trying again (' + (attempt + 1) + '/' + RETRIES + ')');
        await pause(FIRST_PAUSE_MS * 2 ** attempt);
        attempt++;
      }
      if (!sent.ok) {
        failure = sent;
        break;
      }
      pending.shift();
      done += sent.bytes;
      bar.show(done);
    }
    if (!failure) {
      var completed = await api('POST', '/v1/attachments/' + upload.id + '/complete');
      if (completed.ok) {
        bar.show(file.size, 'uploaded, SHA-256 ' + completed.body.sha256.slice(0, 12) + '…');
        return { ok: true, id: upload.id, sha256: completed.body.sha256 };
      }
      failure = {
        retry: completed.status === 0 || completed.status >= 500,
        error: errorText(completed.status, completed.body),
      };
    }
    if (!failure.retry) return { ok: false, error: file.name + ': ' + failure.error };
    // Paused: the person resumes when the connection is back; the gateway says what is missing.
    bar.show(done, 'paused: ' + failure.error + '. Resume when the connection is back.');
    bar.resume.hidden = false;
    await new Promise(function (resolve) {
      bar.resume.onclick = resolve;
    });
    bar.resume.hidden = true;
    var status = await api('GET', '/v1/attachments/' + upload.id);
    if (status.ok) {
      pending = indexesOf(status.body.missingChunks);
      done = sentBytes();
    }
  }
}
