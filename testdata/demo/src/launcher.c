/*
 * launcher.c - stand-in for QEMULauncher.app/Contents/MacOS/QEMULauncher: the
 * only process that loads a QEMU framework.  argv[1] is the framework binary;
 * it is opened with dlopen and accepted when it exports qemu_init,
 * qemu_main_loop and qemu_cleanup (the contract described in
 * /work/shared/reference/utm-domain.md section 1.4).  Links no UTM framework.
 */
#define RTLD_LAZY 0x1
#define RTLD_LOCAL 0x4
#define RTLD_FIRST 0x100

void *dlopen(const char *path, int mode);
void *dlsym(void *handle, const char *symbol);
char *dlerror(void);
int puts(const char *s);

typedef int (*qemu_init_fn)(int, char **, char **);
typedef int (*qemu_main_loop_fn)(void);
typedef void (*qemu_cleanup_fn)(void);

int main(int argc, char **argv, char **envp)
{
	if (argc < 2) {
		puts("usage: QEMULauncher dylibPath qemuArguments...");
		return 1;
	}
	void *h = dlopen(argv[1], RTLD_LOCAL | RTLD_LAZY | RTLD_FIRST);
	if (!h) {
		puts(dlerror());
		return 1;
	}
	qemu_init_fn init = (qemu_init_fn)dlsym(h, "qemu_init");
	qemu_main_loop_fn loop = (qemu_main_loop_fn)dlsym(h, "qemu_main_loop");
	qemu_cleanup_fn cleanup = (qemu_cleanup_fn)dlsym(h, "qemu_cleanup");
	if (!init || !loop || !cleanup) {
		puts(dlerror());
		return 1;
	}
	init(argc - 1, argv + 1, envp);
	int rc = loop();
	cleanup();
	return rc;
}
