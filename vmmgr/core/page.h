/* MaxResults/NextToken, in one place.  The dispatcher reads them for every action that takes
 * MaxResults, with that action's limits from botocore's model (vm_page_limits_of, generated into
 * model_tables.c), and answers nextToken.  A handler either fills the whole list and the dispatcher
 * cuts the page from it (vm_action.paged), or, to render only the page, asks vm_page_take for each
 * item that matches.  Tokens are offsets, opaque to clients. */
#pragma once

#include <stdbool.h>

typedef struct vm_page_limits {
    const char *action;
    long min, max;
    bool clamp;            /* a larger MaxResults is cut to max instead of refused */
    const char *ids_param; /* "InstanceId": may not come with MaxResults (NULL: none) */
} vm_page_limits;

/* The limits of action's MaxResults, NULL when it takes none. */
const vm_page_limits *vm_page_limits_of(const char *action);

typedef struct vm_page {
    long max;    /* 0: everything */
    long offset; /* from NextToken */
    long seen, shown;
    bool used, more;
} vm_page;

/* For each item that matches, in a stable order: 1 render it, 0 skip it (before the page), -1 the
 * page is full (stop; nextToken follows). */
int vm_page_take(vm_page *pg);
