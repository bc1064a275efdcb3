import { convertTime, currentTime, TimeInputError } from './zoned-time';

const SUMMER = Date.parse('2026-07-15T12:00:00.400Z'); // a Wednesday
const WINTER = Date.parse('2026-01-15T12:00:00Z'); // a Thursday

describe('currentTime (get_current_time)', () => {
  it.each([
    ['America/New_York', SUMMER, '2026-07-15T08:00:00-04:00', 'Wednesday', true],
    ['America/New_York', WINTER, '2026-01-15T07:00:00-05:00', 'Thursday', false],
    ['Australia/Sydney', WINTER, '2026-01-15T23:00:00+11:00', 'Thursday', true],
    ['Australia/Sydney', SUMMER, '2026-07-15T22:00:00+10:00', 'Wednesday', false],
    ['Asia/Kathmandu', SUMMER, '2026-07-15T17:45:00+05:45', 'Wednesday', false],
    ['UTC', SUMMER, '2026-07-15T12:00:00+00:00', 'Wednesday', false],
    ['Pacific/Kiritimati', WINTER, '2026-01-16T02:00:00+14:00', 'Friday', false],
  ])('%s at %i is %s (%s, dst %s)', (timezone, now, datetime, dayOfWeek, isDst) => {
    expect(currentTime(timezone, now)).toEqual({ timezone, datetime, day_of_week: dayOfWeek, is_dst: isDst });
  });

  it.each(['Mars/Olympus_Mons', '', '+05:00', 'GMT+5:00', '../../etc/passwd'])('refuses %j as a timezone', (zone) => {
    expect(() => currentTime(zone, SUMMER)).toThrow(TimeInputError);
    expect(() => currentTime(zone, SUMMER)).toThrow(/^Invalid timezone/);
  });
});

describe('convertTime (convert_time)', () => {
  it('converts a wall time of the source zone today into the target zone, across the date line', () => {
    expect(convertTime('America/New_York', '16:30', 'Asia/Tokyo', SUMMER)).toEqual({
      source: {
        timezone: 'America/New_York',
        datetime: '2026-07-15T16:30:00-04:00',
        day_of_week: 'Wednesday',
        is_dst: true,
      },
      target: { timezone: 'Asia/Tokyo', datetime: '2026-07-16T05:30:00+09:00', day_of_week: 'Thursday', is_dst: false },
      time_difference: '+13.0h',
    });
  });

  it.each([
    ['Europe/London', 'America/New_York', WINTER, '-5.0h'],
    ['America/New_York', 'Europe/London', WINTER, '+5.0h'],
    ['Europe/London', 'Europe/Lisbon', SUMMER, '+0.0h'],
    ['UTC', 'Asia/Kolkata', SUMMER, '+5.5h'],
    ['UTC', 'Asia/Kathmandu', SUMMER, '+5.75h'],
    ['Asia/Kathmandu', 'UTC', SUMMER, '-5.75h'],
    ['Asia/Kolkata', 'Asia/Kathmandu', SUMMER, '+0.25h'],
  ])('%s → %s differs by %s (the official format)', (source, target, now, difference) => {
    expect(convertTime(source, '12:00', target, now).time_difference).toBe(difference);
  });

  it("uses the source zone's date, not UTC's", () => {
    // 12:00 UTC on 15 January is already 16 January in Kiritimati.
    expect(convertTime('Pacific/Kiritimati', '09:15', 'UTC', WINTER).source.datetime).toBe('2026-01-16T09:15:00+14:00');
    expect(convertTime('Pacific/Kiritimati', '09:15', 'UTC', WINTER).target.datetime).toBe('2026-01-15T19:15:00+00:00');
  });

  it.each(['24:00', '12:60', '1230', '4:30 PM', '', '12:00:00'])('refuses the time %j', (time) => {
    expect(() => convertTime('UTC', time, 'Asia/Tokyo', SUMMER)).toThrow(
      'Invalid time format. Expected HH:MM [24-hour format]',
    );
  });

  it('refuses an unknown zone on either side', () => {
    expect(() => convertTime('Nowhere/City', '12:00', 'UTC', SUMMER)).toThrow(/^Invalid timezone/);
    expect(() => convertTime('UTC', '12:00', 'Nowhere/City', SUMMER)).toThrow(/^Invalid timezone/);
  });
});
