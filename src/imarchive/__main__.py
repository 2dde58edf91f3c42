from imarchive.cli import main

main()
