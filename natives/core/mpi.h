/*
** mpi.h -- MPI through Debian's OpenMPI, opened on first use
** (natives/core/mpi.c).  Internal, like io.h: declared outside hebb.h's
** FFI block; the binding is natives/lua/l_mpi.c (module hebb._mpi), the
** Lua module stdlib/hebb/mpi.lua.  (Not the system's <mpi.h>: hebb never
** includes that one, the library is reached through dlsym.)
**
** A process started by a launcher (mpirun, srun: OMPI_COMM_WORLD_SIZE,
** PMIX_RANK or PMI_RANK in its environment) loads libmpi and joins its
** world; any other process is a world of one rank without the library,
** where collectives copy or do nothing.  Ranks are 0-based, as in MPI.
** Messages are bytes; reductions know hebb's dtypes.  Every failure
** returns a status with the MPI function and MPI's own message.
*/
#ifndef HEBB_MPI_H
#define HEBB_MPI_H

#include <stdbool.h>
#include <stdint.h>

#include "hebb.h"

typedef struct hebb_comm hebb_comm;

enum { HEBB_MPI_SUM, HEBB_MPI_PROD, HEBB_MPI_MAX, HEBB_MPI_MIN, HEBB_MPI_LAND,
       HEBB_MPI_LOR, HEBB_MPI_NOPS };
enum { HEBB_MPI_ANY = -1 };   /* any source, any tag */

int hebb_mpi_init(void);              /* idempotent */
bool hebb_mpi_launched(void);         /* a launcher started this process */
bool hebb_mpi_active(void);           /* libmpi initialized, not finalized */
int hebb_mpi_finalize(void);
void hebb_mpi_abort(int code);        /* ends every rank (if active) */
hebb_comm *hebb_mpi_world(void);      /* NULL before hebb_mpi_init */
double hebb_mpi_wtime(void);

int hebb_comm_rank(const hebb_comm *c);
int hebb_comm_size(const hebb_comm *c);
int hebb_comm_barrier(hebb_comm *c);
int hebb_comm_bcast(hebb_comm *c, void *p, int64_t nbytes, int root);
/* in place: n elements of dtype combined with op; root -1 for all ranks */
int hebb_comm_reduce(hebb_comm *c, void *p, int64_t n, int dtype, int op,
                     int root);
/* counts[r]: the bytes rank r sends; recv holds their concatenation (on
   every rank, or on root) */
int hebb_comm_allgatherv(hebb_comm *c, const void *send, int64_t nbytes,
                         void *recv, const int64_t *counts);
int hebb_comm_gatherv(hebb_comm *c, const void *send, int64_t nbytes,
                      void *recv, const int64_t *counts, int root);
/* root sends counts[r] bytes of send to rank r, which gets nbytes */
int hebb_comm_scatterv(hebb_comm *c, const void *send, const int64_t *counts,
                       void *recv, int64_t nbytes, int root);
int hebb_comm_send(hebb_comm *c, const void *p, int64_t nbytes, int dest,
                   int tag);
/* the next message from src with tag (HEBB_MPI_ANY for any): waits unless
   !wait; *found false when nothing is there */
int hebb_comm_probe(hebb_comm *c, int src, int tag, bool wait, bool *found,
                    int *src_out, int *tag_out, int64_t *nbytes);
int hebb_comm_recv(hebb_comm *c, void *p, int64_t nbytes, int src, int tag);
/* ranks giving one color (>= 0) form a communicator, ordered by key; a
   negative color gives *out = NULL */
int hebb_comm_split(hebb_comm *c, int color, int key, hebb_comm **out);
int hebb_comm_dup(hebb_comm *c, hebb_comm **out);
void hebb_comm_free(hebb_comm *c);    /* not the world */

#endif
