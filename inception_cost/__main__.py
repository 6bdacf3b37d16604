from inception_cost.cli import main

main()
