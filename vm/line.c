/*
** line.c -- reading REPL lines with GNU readline.
** On a terminal readline runs in its callback mode under our own select
** loop, because that is the one place where a Ctrl-C can be told apart
** from a key: SIGINT only sets a flag, and the loop then throws the line
** away and reports it.  Piped input uses plain readline(), which echoes
** prompt and line like lua5.4 does.
*/
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>

#include <readline/readline.h>
#include <readline/history.h>

#include "vm.h"

#define HISTORY_MAX 1000   /* entries kept in memory and in the file */
#define HISTORY_VAR "HEBB_HISTORY"
#define HISTORY_FILE ".hebb_history"

static int tty;
static char *history_path;  /* NULL: no history file */

static volatile sig_atomic_t got_sigint;
static volatile sig_atomic_t got_winch;
static struct sigaction old_sigint, old_sigwinch;

static char *done_line;  /* what the callback got; NULL at end of input */
static int done;


static void on_sigint (int sig) {
  (void)sig;
  got_sigint = 1;
}


static void on_sigwinch (int sig) {
  (void)sig;
  got_winch = 1;
}


/* $HEBB_HISTORY ("" turns the file off), else ~/.hebb_history */
static char *find_history_path (void) {
  const char *env = getenv(HISTORY_VAR);
  const char *home;
  char *path;
  if (env != NULL)
    return (env[0] != '\0') ? strdup(env) : NULL;
  home = getenv("HOME");
  if (home == NULL || home[0] == '\0')
    return NULL;
  path = malloc(strlen(home) + sizeof(HISTORY_FILE) + 1);
  if (path != NULL)
    sprintf(path, "%s/%s", home, HISTORY_FILE);
  return path;
}


static void handle (int sig, void (*f)(int), struct sigaction *old) {
  struct sigaction sa;
  sa.sa_handler = f;
  sa.sa_flags = SA_RESTART;  /* pselect wakes up all the same */
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, old);
}


void vm_line_open (int is_tty) {
  tty = is_tty;
  rl_readline_name = "hebb";  /* for $if hebb in ~/.inputrc */
  using_history();
  stifle_history(HISTORY_MAX);
  /* timestamp lines separate the entries in the file, so that a function
     typed over several lines comes back as one entry */
  history_comment_char = '#';
  history_write_timestamps = 1;
  history_multiline_entries = 1;
  if (!tty)
    return;
  rl_catch_signals = 0;  /* Ctrl-C is ours (see vm_line_read) */
  rl_catch_sigwinch = 0;
  handle(SIGINT, on_sigint, &old_sigint);
  handle(SIGWINCH, on_sigwinch, &old_sigwinch);
  history_path = find_history_path();
  if (history_path != NULL)
    read_history(history_path);  /* a missing file is fine */
}


void vm_line_close (void) {
  if (!tty)
    return;
  if (history_path != NULL) {
    write_history(history_path);  /* rewritten: this caps its length */
    free(history_path);
    history_path = NULL;
  }
  sigaction(SIGINT, &old_sigint, NULL);
  sigaction(SIGWINCH, &old_sigwinch, NULL);
}


void vm_line_remember (const char *entry) {
  HIST_ENTRY *last;
  if (entry[0] == '\0')
    return;
  last = history_get(history_base + history_length - 1);
  if (last != NULL && strcmp(last->line, entry) == 0)
    return;  /* no runs of the same entry */
  add_history(entry);
  if (history_path != NULL)  /* now, so that a crash does not lose it */
    append_history(1, history_path);
}


static void got_line (char *line) {
  done_line = line;
  done = 1;
  rl_callback_handler_remove();
}


/* Ctrl-C: show where the line ended and mark it, forget it, and give the
   terminal back; returns a copy of the text thrown away */
static char *drop_line (void) {
  FILE *out = (rl_outstream != NULL) ? rl_outstream : stdout;
  char *text = strdup(rl_line_buffer != NULL ? rl_line_buffer : "");
  rl_point = rl_end;
  rl_redisplay();
  fputs("^C", out);  /* before the cleanup, which may return the cursor */
  fflush(out);
  rl_free_line_state();
  rl_callback_sigcleanup();
  rl_cleanup_after_signal();
  rl_callback_handler_remove();
  fputs("\n", out);
  fflush(out);
  return text;
}


static int read_tty (const char *prompt, char **line) {
  sigset_t block, orig;
  int fd = fileno(rl_instream != NULL ? rl_instream : stdin);
  int result = VM_LINE_OK;
  /* SIGINT stays blocked except inside pselect, so that it cannot slip in
     between the test of the flag and the wait */
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGWINCH);
  sigprocmask(SIG_BLOCK, &block, &orig);
  got_sigint = 0;  /* a Ctrl-C before the prompt showed is spent */
  if (got_winch) {  /* resized while code ran: just learn the new size */
    got_winch = 0;
    rl_reset_screen_size();
  }
  done = 0;
  done_line = NULL;
  rl_callback_handler_install(prompt, got_line);
  while (!done) {
    fd_set fds;
    int n;
    FD_ZERO(&fds);
    FD_SET(fd, &fds);
    n = pselect(fd + 1, &fds, NULL, NULL, NULL, &orig);
    if (got_winch) {
      got_winch = 0;
      rl_resize_terminal();
    }
    if (got_sigint) {
      got_sigint = 0;
      *line = drop_line();
      result = VM_LINE_INTERRUPT;
      break;
    }
    if (n > 0)
      rl_callback_read_char();
    else if (n < 0 && errno != EINTR) {  /* stdin is gone */
      rl_callback_handler_remove();
      break;
    }
  }
  sigprocmask(SIG_SETMASK, &orig, NULL);
  if (result == VM_LINE_OK) {
    *line = done_line;
    if (done_line == NULL)
      result = VM_LINE_EOF;
  }
  return result;
}


int vm_line_read (const char *prompt, char **line) {
  *line = NULL;
  if (tty)
    return read_tty(prompt, line);
  *line = readline(prompt);
  return (*line == NULL) ? VM_LINE_EOF : VM_LINE_OK;
}
