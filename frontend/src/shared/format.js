// Dates, time zones and schedules, always shown in the show's own time zone; dates and money in
// the page's language.

import { locale, t } from "./i18n.js";

export function browserTimeZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

/** Every IANA zone the browser knows, sorted, with the browser's own and UTC always present. */
export function timeZones() {
  let zones = [];
  try {
    zones = Intl.supportedValuesOf("timeZone");
  } catch {
    zones = [];
  }
  return Array.from(new Set([...zones, browserTimeZone(), "UTC"])).sort();
}

const formatters = new Map();

/** "Tue 1 Dec, 19:00 CET": an instant as wall-clock time in `timeZone`, in the reader's locale. */
export function episodeTime(isoInstant, timeZone) {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat(locale, {
      timeZone,
      weekday: "short",
      day: "numeric",
      month: "short",
      hour: "2-digit",
      minute: "2-digit",
      timeZoneName: "short",
    });
    formatters.set(timeZone, formatter);
  }
  return formatter.format(new Date(isoInstant));
}

const DAY_CODES = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

// Monday 2024-01-01 and the six days after it, named in the page's language ("Tuesday", "mardi").
const weekdayNames = new Intl.DateTimeFormat(locale, { weekday: "long", timeZone: "UTC" });
const DAY_NAMES = DAY_CODES.map((_, index) => weekdayNames.format(new Date(Date.UTC(2024, 0, 1 + index))));

/** Weekday name of a calendar date written "2026-12-04" (no time zone involved), in the page's language. */
export function weekdayOf(isoDate) {
  const [year, month, day] = isoDate.slice(0, 10).split("-").map(Number);
  if (!year || !month || !day) return null;
  const sunday0 = new Date(Date.UTC(year, month - 1, day)).getUTCDay();
  return DAY_NAMES[(sunday0 + 6) % 7];
}

function listOf(names) {
  if (names.length <= 1) return names.join("");
  return t("schedule.and", { list: names.slice(0, -1).join(", "), last: names[names.length - 1] });
}

/**
 * "Every Tuesday at 19:00", "Every 2 weeks on Friday at 18:30" ("Chaque mardi à 19:00") from a weekly
 * RRULE and a wall-clock start.
 */
export function scheduleSummary(rrule, firstLocal) {
  const parts = Object.fromEntries(
    rrule
      .split(";")
      .map((chunk) => chunk.split("="))
      .filter((pair) => pair.length === 2),
  );
  const interval = Number(parts.INTERVAL || 1);
  const days = parts.BYDAY
    ? parts.BYDAY.split(",")
        .map((code) => DAY_NAMES[DAY_CODES.indexOf(code.slice(-2))])
        .filter(Boolean)
    : [weekdayOf(firstLocal)].filter(Boolean);
  const time = firstLocal.slice(11, 16);
  let every;
  if (days.length === 0) every = interval > 1 ? t("schedule.every_weeks", { interval }) : t("schedule.every_week");
  else if (interval > 1) every = t("schedule.every_weeks_on", { interval, days: listOf(days) });
  else every = t("schedule.every", { days: listOf(days) });
  return time ? t("schedule.at", { every, time }) : every;
}

export function calendarUrls(calendarPath) {
  const url = new URL(calendarPath, window.location.origin);
  return { https: url.href, webcal: `webcal://${url.host}${url.pathname}${url.search}` };
}

/** A date input's value ("2026-12-04") `days` from today on this device. */
export function dateInDays(days) {
  const at = new Date();
  at.setDate(at.getDate() + days);
  const pad = (n) => String(n).padStart(2, "0");
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}`;
}

/** "4 min 05 s", "12 s": how long until something can happen again. */
export function waitText(seconds) {
  const whole = Math.max(0, Math.ceil(seconds));
  if (whole < 60) return t("format.seconds", { s: whole });
  const minutes = Math.floor(whole / 60);
  if (minutes < 60) return t("format.minutes_seconds", { m: minutes, s: String(whole % 60).padStart(2, "0") });
  return t("format.hours_minutes", { h: Math.floor(minutes / 60), m: String(minutes % 60).padStart(2, "0") });
}

/** "28 s", "4:05", "23:59:30": the same, short enough for a button or a badge. */
export function clockText(seconds) {
  const whole = Math.max(0, Math.ceil(seconds));
  if (whole < 60) return t("format.seconds", { s: whole });
  const pad = (n) => String(n).padStart(2, "0");
  const [h, m, s] = [Math.floor(whole / 3600), Math.floor((whole % 3600) / 60), whole % 60];
  return h ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
}

/** "0:45", "12:34", "1:02:03": a moment of a video, as players write it. */
export function mediaClock(seconds) {
  const whole = Math.max(0, Math.floor(seconds));
  const pad = (n) => String(n).padStart(2, "0");
  const [h, m, s] = [Math.floor(whole / 3600), Math.floor((whole % 3600) / 60), whole % 60];
  return h ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
}

// --- money: integer minor units plus an ISO currency, as the API gives them -----------------

const moneyFormats = new Map();

function moneyFormat(currency) {
  let format = moneyFormats.get(currency);
  if (!format) {
    try {
      format = new Intl.NumberFormat(locale, { style: "currency", currency });
    } catch {
      format = new Intl.NumberFormat(locale, { style: "currency", currency: "EUR" });
    }
    moneyFormats.set(currency, format);
  }
  return format;
}

/** Digits after the decimal point in `currency` (2 for EUR, 0 for JPY). */
export function minorDigits(currency) {
  return moneyFormat(currency).resolvedOptions().maximumFractionDigits;
}

/** "€49.90" (in the reader's locale) from 4990 and "EUR". */
export function money(minor, currency) {
  return moneyFormat(currency).format(minor / 10 ** minorDigits(currency));
}

/** A price as typed ("49.9", "49,90", "1 049") in minor units, or null when it is not one. */
export function toMinor(text, currency) {
  const cleaned = String(text).trim().replace(/[\s\u00a0']/g, "").replace(",", ".");
  if (!/^\d+(\.\d*)?$/.test(cleaned)) return null;
  const digits = minorDigits(currency);
  const [whole, fraction = ""] = cleaned.split(".");
  if (fraction.length > digits) return null;
  return Number(whole) * 10 ** digits + Number(fraction.padEnd(digits, "0") || 0);
}

/** 4990 → "49.90": a price to put back in an input. */
export function fromMinor(minor, currency) {
  const digits = minorDigits(currency);
  // In the page's decimal sign ("71,20" in French), without grouping, so toMinor reads it back.
  const options = { minimumFractionDigits: digits, maximumFractionDigits: digits, useGrouping: false };
  return new Intl.NumberFormat(locale, options).format(minor / 10 ** digits);
}
