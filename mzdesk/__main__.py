import multiprocessing

if __name__ == "__main__":
    # a frozen build started as the batch reader's worker process (mzdesk.sync.staging)
    # runs that here and exits; anything else falls through to the program
    multiprocessing.freeze_support()

from mzdesk.cli import main  # noqa: E402

if __name__ == "__main__":
    main()
