/* What the endpoint answered, counted for Prometheus: requests by service, action and HTTP status,
 * and their durations as a histogram by service and action.  Process-wide, thread-safe. */
#pragma once

#include <stdio.h>

void api_reqstats_record(const char *service, const char *action, int status, double seconds);
/* vmmgr_api_requests_total and vmmgr_api_request_duration_seconds in the text exposition format */
void api_reqstats_write(FILE *out);
