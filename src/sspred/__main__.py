from sspred.cli import main

main()
