from modelcat.cli import app

app()
