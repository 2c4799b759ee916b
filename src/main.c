/* main.c - placeholder until the CLI lands. */
#include <stdio.h>
int main(void)
{
    puts("cfp " CFP_VERSION);
    return 0;
}
