#ifndef CKERNELS_H
#define CKERNELS_H
int ck_placeholder(void);
#endif
