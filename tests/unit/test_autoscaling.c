#include <criterion/criterion.h>
#include <stdlib.h>
#include <time.h>

#include "../../autoscaling/asg_priv.h"
#include "../../vmmgr/core/node.h"

static time_t
at(const char *iso)
{
    time_t t;
    cr_assert_eq(vm_time_parse(iso, &t), 0, "%s", iso);
    return t;
}

static void
expect_next(const char *expr, const char *tz, const char *from, const char *want)
{
    time_t got = asg_cron_next(expr, tz, at(from));
    char buf[32];
    vm_time_format(got, buf, sizeof(buf));
    cr_expect_eq(got, at(want), "'%s' in %s after %s: %s, expected %s", expr, tz ? tz : "UTC", from, buf, want);
}

Test(cron, steps_lists_and_ranges)
{
    expect_next("*/15 * * * *", NULL, "2026-12-05T07:01:30Z", "2026-12-05T07:15:00Z");
    expect_next("0 * * * *", NULL, "2026-12-05T07:00:00Z", "2026-12-05T07:00:00Z");
    expect_next("5,35 9-10 * * *", NULL, "2026-12-05T09:36:00Z", "2026-12-05T10:05:00Z");
    expect_next("0 0 1 JAN *", NULL, "2026-12-05T07:00:00Z", "2027-01-01T00:00:00Z");
    expect_next("0 12 * * 0", NULL, "2026-12-05T13:00:00Z", "2026-12-06T12:00:00Z"); /* 0 and 7: Sunday */
    expect_next("0 12 * * 7", NULL, "2026-12-05T13:00:00Z", "2026-12-06T12:00:00Z");
}

Test(cron, day_of_month_or_day_of_week)
{
    /* both restricted: either matches, as in Vixie cron (Friday 2026-12-11 before the 13th) */
    expect_next("0 0 13 * FRI", NULL, "2026-12-05T07:00:00Z", "2026-12-11T00:00:00Z");
    expect_next("0 0 29 2 *", NULL, "2026-12-05T07:00:00Z", "2028-02-29T00:00:00Z");
}

Test(cron, time_zones)
{
    /* 08:00 on weekdays in New York, from a Saturday in December (EST, UTC-5) */
    expect_next("0 8 * * MON-FRI", "America/New_York", "2026-12-05T12:00:00Z", "2026-12-07T13:00:00Z");
    /* in July it is EDT, UTC-4 */
    expect_next("0 8 * * *", "America/New_York", "2027-07-01T00:00:00Z", "2027-07-01T12:00:00Z");
    /* 02:30 does not exist on 2027-03-14 in New York (clocks jump from 02:00 to 03:00): the next day's */
    expect_next("30 2 * * *", "America/New_York", "2027-03-14T05:00:00Z", "2027-03-15T06:30:00Z");
    expect_next("0 9 * * *", "Asia/Kolkata", "2026-12-05T00:00:00Z", "2026-12-05T03:30:00Z");
    cr_expect_null(getenv("TZ"), "the zone leaked into the process's TZ");
}

Test(cron, invalid_expressions)
{
    const char *bad[] = { "61 * * * *", "* * * *", "* * * * * *", "0 8 * * MON-", "0 24 * * *", "0 0 0 * *",
                          "*/0 * * * *", "0 0 * 13 *", "a b c d e", "5-1 * * * *", "" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_expect_eq(asg_cron_next(bad[i], NULL, 0), 0, "'%s' was accepted", bad[i]);
    vm_error err = { 0 };
    cr_expect_eq(asg_cron_check("0 8 * * *", "Mars/Olympus", &err), -1);
    cr_expect_eq(asg_cron_check("0 8 * * *", "../../etc/passwd", &err), -1);
    vm_error ok = { 0 };
    cr_expect_eq(asg_cron_check("0 8 * * *", "Europe/Paris", &ok), 0);
}
