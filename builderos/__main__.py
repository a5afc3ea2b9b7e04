from builderos.cli import main

main()
