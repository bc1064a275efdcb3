/**
 * Wall-clock time in IANA zones with the platform's time-zone database (ECMA-402 Intl.DateTimeFormat, ICU's tzdata):
 * the computations of the official Python time server (mcp-server-time, `zoneinfo`), without a dependency.
 */

/** A time as the official server reports it (its `TimeResult`). */
export interface ZonedTime {
  readonly timezone: string;
  /** ISO 8601 with the zone's offset, to the second (Python's `isoformat(timespec="seconds")`). */
  readonly datetime: string;
  /** English weekday name (`strftime("%A")`). */
  readonly day_of_week: string;
  readonly is_dst: boolean;
}

/** The official server's `TimeConversionResult`. */
export interface TimeConversion {
  readonly source: ZonedTime;
  readonly target: ZonedTime;
  /** Target minus source offset in hours: `+9.0h`, `-4.0h`, `+5.75h` (the official server's format). */
  readonly time_difference: string;
}

/** A caller's mistake (unknown zone, malformed time): the tool answers it as an error result. */
export class TimeInputError extends Error {}

/**
 * The zone's formatter, or TimeInputError. Only IANA names: ECMA-402 also accepts offset strings (`+05:00`), which
 * are no zone (no DST, no history) and which the official server refuses as well.
 */
function formatter(zone: string): Intl.DateTimeFormat {
  if (!/^[A-Za-z]/.test(zone)) throw new TimeInputError(`Invalid timezone: '${zone}' is not an IANA timezone name`);
  try {
    return new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      weekday: 'long',
      timeZoneName: 'longOffset',
    });
  } catch {
    throw new TimeInputError(`Invalid timezone: No time zone found with key ${zone}`);
  }
}

interface WallClock {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly weekday: string;
  /** Minutes east of UTC. */
  readonly offset: number;
}

function wallClock(format: Intl.DateTimeFormat, instant: number): WallClock {
  const parts = Object.fromEntries(format.formatToParts(instant).map((part) => [part.type, part.value]));
  const number = (type: string) => Number(parts[type]);
  // `GMT`, `GMT+05:45`, `GMT-03:00`
  const offset = /^GMT(?:([+-])(\d{2}):(\d{2}))?$/.exec(parts['timeZoneName'] ?? '');
  if (!offset) throw new Error(`unexpected offset ${parts['timeZoneName']}`);
  const sign = offset[1] === '-' ? -1 : 1;
  return {
    year: number('year'),
    month: number('month'),
    day: number('day'),
    hour: number('hour'),
    minute: number('minute'),
    second: number('second'),
    weekday: parts['weekday'] ?? '',
    offset: offset[1] ? sign * (Number(offset[2]) * 60 + Number(offset[3])) : 0,
  };
}

const pad = (value: number, width = 2) => String(Math.abs(value)).padStart(width, '0');

function zonedTime(zone: string, format: Intl.DateTimeFormat, instant: number): ZonedTime {
  const clock = wallClock(format, instant);
  // DST: the offset exceeds the zone's standard offset that year (the smaller of January's and July's).
  const standard = Math.min(
    wallClock(format, Date.UTC(clock.year, 0, 1)).offset,
    wallClock(format, Date.UTC(clock.year, 6, 1)).offset,
  );
  const offset = `${clock.offset < 0 ? '-' : '+'}${pad(Math.trunc(clock.offset / 60))}:${pad(clock.offset % 60)}`;
  return {
    timezone: zone,
    datetime:
      `${pad(clock.year, 4)}-${pad(clock.month)}-${pad(clock.day)}` +
      `T${pad(clock.hour)}:${pad(clock.minute)}:${pad(clock.second)}${offset}`,
    day_of_week: clock.weekday,
    is_dst: clock.offset > standard,
  };
}

/** `get_current_time`: now in `zone`. */
export function currentTime(zone: string, now: number = Date.now()): ZonedTime {
  return zonedTime(zone, formatter(zone), Math.floor(now / 1000) * 1000);
}

/**
 * `convert_time`: `time` (`HH:MM`, 24-hour) on today's date in `sourceZone`, and the same instant in `targetZone`
 * (like the official server, the date is the source zone's today).
 */
export function convertTime(
  sourceZone: string,
  time: string,
  targetZone: string,
  now: number = Date.now(),
): TimeConversion {
  const source = formatter(sourceZone);
  const target = formatter(targetZone);
  const match = /^([01]?\d|2[0-3]):([0-5]?\d)$/.exec(time);
  if (!match) throw new TimeInputError('Invalid time format. Expected HH:MM [24-hour format]');
  const today = wallClock(source, now);
  const wall = Date.UTC(today.year, today.month - 1, today.day, Number(match[1]), Number(match[2]));
  // The instant whose wall clock in the source zone is `wall`: subtract the offset, then the offset there.
  const instant = wall - wallClock(source, wall - wallClock(source, wall).offset * 60_000).offset * 60_000;
  const hours = (wallClock(target, instant).offset - wallClock(source, instant).offset) / 60;
  const difference = Number.isInteger(hours)
    ? `${hours < 0 ? '' : '+'}${hours.toFixed(1)}h`
    : `${hours < 0 ? '' : '+'}${hours.toFixed(2).replace(/0+$/, '').replace(/\.$/, '')}h`;
  return {
    source: zonedTime(sourceZone, source, instant),
    target: zonedTime(targetZone, target, instant),
    time_difference: difference,
  };
}
