/*
** vm.h -- the pieces of the hebb executable and how they meet.
**
**   hebb.c      main: options, the arg table, LUA_INIT, scripts
**   call.c      protected calls, error reports, Ctrl-C while Lua runs
**   repl.c      the interactive loop: chunks, `?name`, `:commands`
**   show.c      how the REPL prints results
**   line.c      reading lines with GNU readline: prompt, Ctrl-C, history
**   complete.c  tab completion of names, fields and methods
*/
#ifndef VM_H
#define VM_H

#include <stddef.h>

#include "lua.h"

/* --- hebb.c --- */

/* name used in front of error messages: argv[0] like lua5.4, or NULL
   inside the REPL (whose errors carry no program name) */
extern const char *vm_progname;

/* --- call.c --- */

/* writes "progname: msg" (or just msg when pname is NULL) to stderr */
void vm_message(const char *pname, const char *msg);

/* prints the error on top of the stack when status is not LUA_OK and pops
   it; returns status */
int vm_report(lua_State *L, int status);

/* calls the function below its narg arguments with a traceback handler;
   SIGINT meanwhile interrupts it with an "interrupted!" error and asks C
   kernels to stop (hebb_interrupt) */
int vm_docall(lua_State *L, int narg, int nres);

/* whether a SIGINT came during the last vm_docall */
int vm_interrupted(void);

/* --- show.c --- */

/* writes the n values on top of the stack like `print` would, except that
   plain tables get a short one-level summary; pops them.  Never raises. */
void vm_show(lua_State *L, int n);

/* --- line.c --- */

enum {
  VM_LINE_OK = 0,        /* *line is a malloc'ed line, without newline */
  VM_LINE_EOF = 1,       /* Ctrl-D at an empty line, or end of input */
  VM_LINE_INTERRUPT = 2  /* Ctrl-C: *line is the (malloc'ed) text that
                            was thrown away, maybe "" */
};

/* tty: whether stdin is a terminal (the editor, Ctrl-C handling and
   history file are for terminals only) */
void vm_line_open(int tty);
void vm_line_close(void);
int vm_line_read(const char *prompt, char **line);
/* adds an entry (possibly several lines) to the history and its file */
void vm_line_remember(const char *entry);

/* --- complete.c --- */

/* makes readline's TAB complete against the globals of L */
void vm_complete_init(lua_State *L);

/* whether s is a Lua name (an identifier, not a reserved word) */
int vm_isname(const char *s, size_t len);

/* --- repl.c --- */

/* runs the read-eval-print loop until Ctrl-D, :quit or end of input */
void vm_repl(lua_State *L);

#endif
