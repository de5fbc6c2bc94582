/* Files a clerk attaches: small ones travel inside the encrypted content; larger ones are
 * uploaded in chunks first and sent by reference. */
import { progressBar, uploadFile } from './upload.js';

/** Up to this size a file goes inline (the inline files of a message share 5 MiB). */
export var INLINE_MAX_BYTES = 1024 * 1024;
export var INLINE_TOTAL_BYTES = 5 * 1024 * 1024;

function base64Of(file) {
  return new Promise(function (resolve, reject) {
    var reader = new FileReader();
    reader.onload = function () {
      resolve(String(reader.result).split(',')[1] || '');
    };
    reader.onerror = function () {
      reject(new Error(file.name + ' could not be read'));
    };
    reader.readAsDataURL(file);
  });
}

/**
 * {files: [{filename, size, inline?: {filename, mediaType, data}, ref?: uploadId}], error?};
 * the progress of each upload shows in `progressArea`. `inlineBudget`: bytes that may still go
 * inline (0: upload everything, as the writer does so that a saved draft keeps only ids). A file
 * that fails is named in `error`; the others are still returned.
 */
export async function attachFiles(chosen, progressArea, inlineBudget) {
  var budget = inlineBudget === undefined ? INLINE_TOTAL_BYTES : inlineBudget;
  var inlineBytes = 0;
  var files = [];
  var errors = [];
  for (var file of chosen) {
    if (file.size === 0) {
      errors.push(file.name + ' is empty');
      continue;
    }
    if (file.size <= INLINE_MAX_BYTES && inlineBytes + file.size <= budget) {
      try {
        var data = await base64Of(file);
        inlineBytes += file.size;
        files.push({
          filename: file.name,
          size: file.size,
          inline: {
            filename: file.name,
            mediaType: file.type || 'application/octet-stream',
            data: data,
          },
        });
      } catch (error) {
        errors.push(error.message);
      }
      continue;
    }
    var bar = progressBar(file);
    progressArea.append(bar.node);
    var uploaded = await uploadFile(file, bar);
    if (uploaded.ok) files.push({ filename: file.name, size: file.size, ref: uploaded.id });
    else errors.push(uploaded.error);
  }
  return { files: files, error: errors.length ? errors.join('; ') : null };
}

/** The API body members for attached files: inline `attachments` and `attachmentRefs`. */
export function attachmentMembers(files) {
  var members = {};
  var inline = files.filter(function (file) {
    return file.inline;
  });
  var refs = files.filter(function (file) {
    return file.ref;
  });
  if (inline.length)
    members.attachments = inline.map(function (file) {
      return file.inline;
    });
  if (refs.length)
    members.attachmentRefs = refs.map(function (file) {
      return file.ref;
    });
  return members;
}
