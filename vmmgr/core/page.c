#include "page.h"

int
vm_page_take(vm_page *pg)
{
    pg->used = true;
    if (pg->seen++ < pg->offset)
        return 0;
    if (pg->max && pg->shown == pg->max) {
        pg->more = true;
        return -1;
    }
    pg->shown++;
    return 1;
}
