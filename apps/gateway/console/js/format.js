/* How times, ages, sizes and ids read in the console; '–' wherever the gateway gave no value. */

function pad(value) {
  return String(value).padStart(2, '0');
}

export function clock(date) {
  return pad(date.getHours()) + ':' + pad(date.getMinutes()) + ':' + pad(date.getSeconds());
}

export function dateTime(iso) {
  if (!iso) return '–';
  var date = new Date(iso);
  if (isNaN(date.getTime())) return String(iso);
  return (
    date.getFullYear() +
    '-' +
    pad(date.getMonth() + 1) +
    '-' +
    pad(date.getDate()) +
    ' ' +
    clock(date)
  );
}

/** Date and time with milliseconds: a timeline's events are often within one second. */
export function preciseTime(iso) {
  var date = new Date(iso);
  if (!iso || isNaN(date.getTime())) return dateTime(iso);
  return dateTime(iso) + '.' + String(date.getMilliseconds()).padStart(3, '0');
}

export function age(seconds) {
  if (seconds === null || seconds === undefined) return '–';
  var s = Math.max(0, Math.round(Number(seconds)));
  if (s < 60) return s + ' s';
  if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
  if (s < 86400) return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
  return Math.floor(s / 86400) + ' d ' + Math.floor((s % 86400) / 3600) + ' h';
}

export function bytes(count) {
  if (count === null || count === undefined) return '–';
  var n = Number(count);
  if (n < 1024) return n + ' B';
  if (n < 1024 * 1024) return (n / 1024).toFixed(1) + ' KiB';
  return (n / 1024 / 1024).toFixed(1) + ' MiB';
}

export function count(value) {
  return value === null || value === undefined ? '–' : String(value);
}

export function shortId(id) {
  if (!id) return '–';
  var text = String(id);
  // UUIDv7 starts with the time: the end tells messages of the same minute apart.
  return text.length > 16 ? text.slice(0, 8) + '…' + text.slice(-6) : text;
}
